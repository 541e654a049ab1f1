//! The schema keywords that limit which values a schema admits, and how a
//! change to each widens or narrows that set.

use std::collections::BTreeSet;

use serde_json::Value;

use super::rules::Effect;

/// How a keyword limits values, which says how to compare two of its values.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// `type`: absent admits any type; `integer` is a subset of `number`.
    Type,
    /// `format`: absent admits any; `int32` ⊂ `int64` and `float` ⊂ `double`.
    Format,
    /// `enum`: absent admits any value; otherwise exactly the listed ones.
    Enum,
    /// A number that values must not go below (absent: no bound).
    Lower,
    /// A number that values must not go above (absent: no bound).
    Upper,
    /// `multipleOf`: a divisor of the old one admits more.
    MultipleOf,
    /// A flag that admits fewer values when true (absent: false).
    RestrictsWhenTrue,
    /// A flag that admits more values when true (absent: false): `nullable`.
    AdmitsWhenTrue,
    /// Any change may admit other values, and nothing finer can be said
    /// (two regular expressions, two discriminators).
    Opaque,
}

/// The keywords compared value to value, with how each limits values. (The
/// walk compares the subschemas itself: `properties`, `items`,
/// `additionalProperties`, `allOf`, `oneOf`, `anyOf`, `not`; and judges
/// `readOnly` and `writeOnly` as a property's presence on each side.)
pub const LIMITS: &[(&str, Limit)] = &[
    ("type", Limit::Type),
    ("format", Limit::Format),
    ("enum", Limit::Enum),
    ("nullable", Limit::AdmitsWhenTrue),
    ("minimum", Limit::Lower),
    ("exclusiveMinimum", Limit::RestrictsWhenTrue),
    ("maximum", Limit::Upper),
    ("exclusiveMaximum", Limit::RestrictsWhenTrue),
    ("multipleOf", Limit::MultipleOf),
    ("minLength", Limit::Lower),
    ("maxLength", Limit::Upper),
    ("pattern", Limit::Opaque),
    ("minItems", Limit::Lower),
    ("maxItems", Limit::Upper),
    ("uniqueItems", Limit::RestrictsWhenTrue),
    ("minProperties", Limit::Lower),
    ("maxProperties", Limit::Upper),
    ("discriminator", Limit::Opaque),
];

/// Formats of which another admits every value: `(narrower, wider)`.
const WIDER_FORMATS: [(&str, &str); 2] = [("int32", "int64"), ("float", "double")];

/// How changing a keyword limited as `limit` from `old` to `new` changes the
/// values the schema admits, with what changed for the report; `None` when
/// the two admit the same values.
pub fn compare(
    keyword: &str,
    limit: Limit,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Option<(Effect, String)> {
    if old == new {
        return None;
    }
    let effect = match limit {
        Limit::Type => presence(old, new).unwrap_or_else(|| {
            match (old.and_then(Value::as_str), new.and_then(Value::as_str)) {
                (Some("integer"), Some("number")) => Effect::Widened,
                (Some("number"), Some("integer")) => Effect::Narrowed,
                _ => Effect::Changed,
            }
        }),
        Limit::Format => presence(old, new).unwrap_or_else(|| {
            let pair = (
                old.and_then(Value::as_str).unwrap_or_default(),
                new.and_then(Value::as_str).unwrap_or_default(),
            );
            if WIDER_FORMATS.contains(&pair) {
                Effect::Widened
            } else if WIDER_FORMATS.contains(&(pair.1, pair.0)) {
                Effect::Narrowed
            } else {
                Effect::Changed
            }
        }),
        Limit::Enum => match presence(old, new) {
            Some(effect) => effect,
            None => {
                let (added, removed) = enum_difference(old, new);
                let effect = match (added.is_empty(), removed.is_empty()) {
                    (false, true) => Effect::Widened,
                    (true, false) => Effect::Narrowed,
                    (false, false) => Effect::Changed,
                    // The same values in another order.
                    (true, true) => return None,
                };
                let mut what = Vec::new();
                if !added.is_empty() {
                    what.push(format!("values added: {}", added.join(", ")));
                }
                if !removed.is_empty() {
                    what.push(format!("values removed: {}", removed.join(", ")));
                }
                return Some((effect, what.join("; ")));
            }
        },
        Limit::Lower => bound(old, new, |old, new| new < old),
        Limit::Upper => bound(old, new, |old, new| new > old),
        Limit::MultipleOf => presence(old, new).unwrap_or_else(|| {
            let (old, new) = (number(old), number(new));
            if is_whole(old / new) {
                Effect::Widened
            } else if is_whole(new / old) {
                Effect::Narrowed
            } else {
                Effect::Changed
            }
        }),
        Limit::RestrictsWhenTrue | Limit::AdmitsWhenTrue => {
            let flag = |value: Option<&Value>| value.and_then(Value::as_bool).unwrap_or(false);
            let (old_flag, new_flag) = (flag(old), flag(new));
            if old_flag == new_flag {
                // `false` spelled out or left out.
                return None;
            }
            let admits_more = new_flag == matches!(limit, Limit::AdmitsWhenTrue);
            if admits_more {
                Effect::Widened
            } else {
                Effect::Narrowed
            }
        }
        Limit::Opaque => presence(old, new).unwrap_or(Effect::Changed),
    };
    Some((effect, format!("{keyword}: {} → {}", show(old), show(new))))
}

/// Adding a keyword narrows and removing one widens, for the keywords whose
/// absence admits anything; `None` when both are present or both absent.
pub fn presence(old: Option<&Value>, new: Option<&Value>) -> Option<Effect> {
    match (old, new) {
        (None, Some(_)) => Some(Effect::Narrowed),
        (Some(_), None) => Some(Effect::Widened),
        _ => None,
    }
}

/// A bound: absent is no bound; `widens` says whether moving it from `old`
/// to `new` admits more.
fn bound(old: Option<&Value>, new: Option<&Value>, widens: fn(f64, f64) -> bool) -> Effect {
    presence(old, new).unwrap_or_else(|| {
        if widens(number(old), number(new)) {
            Effect::Widened
        } else {
            Effect::Narrowed
        }
    })
}

fn number(value: Option<&Value>) -> f64 {
    value.and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn is_whole(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0
}

/// The values only `new` lists and those only `old` lists, as JSON.
fn enum_difference(old: Option<&Value>, new: Option<&Value>) -> (Vec<String>, Vec<String>) {
    let values = |list: Option<&Value>| -> BTreeSet<String> {
        list.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect()
    };
    let (old, new) = (values(old), values(new));
    (
        new.difference(&old).cloned().collect(),
        old.difference(&new).cloned().collect(),
    )
}

/// A keyword's value for the report.
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "absent".to_owned(),
        // Patterns read better without JSON's escapes.
        Some(Value::String(text)) => format!("\"{text}\""),
        Some(value) => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn limit(keyword: &str) -> Limit {
        LIMITS
            .iter()
            .find(|(name, _)| *name == keyword)
            .map(|(_, limit)| *limit)
            .unwrap_or_else(|| panic!("{keyword} is not in LIMITS"))
    }

    /// Each kind of limit, both ways: `(keyword, old, new, effect)`.
    #[test]
    fn each_limit_widens_narrows_or_changes() {
        use Effect::{Changed, Narrowed, Widened};
        type Case = (&'static str, Option<Value>, Option<Value>, Option<Effect>);
        let cases: &[Case] = &[
            (
                "type",
                Some(json!("integer")),
                Some(json!("number")),
                Some(Widened),
            ),
            (
                "type",
                Some(json!("number")),
                Some(json!("integer")),
                Some(Narrowed),
            ),
            (
                "type",
                Some(json!("string")),
                Some(json!("integer")),
                Some(Changed),
            ),
            ("type", None, Some(json!("string")), Some(Narrowed)),
            (
                "format",
                Some(json!("int32")),
                Some(json!("int64")),
                Some(Widened),
            ),
            (
                "format",
                Some(json!("double")),
                Some(json!("float")),
                Some(Narrowed),
            ),
            (
                "format",
                Some(json!("uuid")),
                Some(json!("date-time")),
                Some(Changed),
            ),
            ("format", Some(json!("uuid")), None, Some(Widened)),
            (
                "enum",
                Some(json!(["a"])),
                Some(json!(["a", "b"])),
                Some(Widened),
            ),
            (
                "enum",
                Some(json!(["a", "b"])),
                Some(json!(["b"])),
                Some(Narrowed),
            ),
            (
                "enum",
                Some(json!(["a", "b"])),
                Some(json!(["b", "c"])),
                Some(Changed),
            ),
            (
                "enum",
                Some(json!(["a", "b"])),
                Some(json!(["b", "a"])),
                None,
            ),
            ("nullable", Some(json!(true)), None, Some(Narrowed)),
            (
                "nullable",
                Some(json!(false)),
                Some(json!(true)),
                Some(Widened),
            ),
            ("nullable", Some(json!(false)), None, None),
            ("minimum", Some(json!(0)), Some(json!(1)), Some(Narrowed)),
            ("minimum", Some(json!(1)), Some(json!(0)), Some(Widened)),
            ("minimum", None, Some(json!(0)), Some(Narrowed)),
            ("maximum", Some(json!(100)), Some(json!(50)), Some(Narrowed)),
            ("maximum", Some(json!(100)), None, Some(Widened)),
            ("exclusiveMinimum", None, Some(json!(true)), Some(Narrowed)),
            (
                "exclusiveMaximum",
                Some(json!(true)),
                Some(json!(false)),
                Some(Widened),
            ),
            ("multipleOf", Some(json!(10)), Some(json!(5)), Some(Widened)),
            (
                "multipleOf",
                Some(json!(5)),
                Some(json!(10)),
                Some(Narrowed),
            ),
            ("multipleOf", Some(json!(3)), Some(json!(5)), Some(Changed)),
            ("minLength", Some(json!(1)), Some(json!(2)), Some(Narrowed)),
            (
                "maxLength",
                Some(json!(128)),
                Some(json!(64)),
                Some(Narrowed),
            ),
            (
                "maxLength",
                Some(json!(64)),
                Some(json!(128)),
                Some(Widened),
            ),
            (
                "pattern",
                Some(json!("^a$")),
                Some(json!("^b$")),
                Some(Changed),
            ),
            ("pattern", Some(json!("^a$")), None, Some(Widened)),
            ("minItems", Some(json!(1)), None, Some(Widened)),
            ("maxItems", None, Some(json!(10)), Some(Narrowed)),
            ("uniqueItems", None, Some(json!(true)), Some(Narrowed)),
            (
                "minProperties",
                Some(json!(2)),
                Some(json!(1)),
                Some(Widened),
            ),
            (
                "maxProperties",
                Some(json!(2)),
                Some(json!(1)),
                Some(Narrowed),
            ),
            (
                "discriminator",
                None,
                Some(json!({"propertyName": "kind"})),
                Some(Narrowed),
            ),
        ];
        for (keyword, old, new, expected) in cases {
            let found = compare(keyword, limit(keyword), old.as_ref(), new.as_ref());
            assert_eq!(
                found.as_ref().map(|(effect, _)| *effect),
                *expected,
                "{keyword}: {old:?} → {new:?}: {found:?}"
            );
        }
    }

    #[test]
    fn the_report_names_what_changed() {
        let (_, what) =
            compare("maximum", Limit::Upper, Some(&json!(100)), Some(&json!(50))).unwrap();
        assert_eq!(what, "maximum: 100 → 50");
        let (_, what) = compare("pattern", Limit::Opaque, Some(&json!("^a$")), None).unwrap();
        assert_eq!(what, r#"pattern: "^a$" → absent"#);
        let (_, what) = compare(
            "enum",
            Limit::Enum,
            Some(&json!(["idle", "busy"])),
            Some(&json!(["idle", "paused"])),
        )
        .unwrap();
        assert_eq!(what, r#"values added: "paused"; values removed: "busy""#);
    }
}
