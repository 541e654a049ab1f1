//! Schema comparison: two schemas, with their `$ref`s followed and their
//! `allOf` members merged in, keyword by keyword and property by property.
//!
//! Merging first means that rewriting a schema without changing what it
//! admits (an inline schema moved to `components`, a `$ref` wrapped in
//! `allOf` to add a description) is no change, and that a change is reported
//! where it is written: a pattern changed in `Decimal` at
//! `/components/schemas/Decimal/pattern`, with the places that use it. A
//! property declared both by a schema and by its `allOf` members is all of
//! those declarations, merged the same way.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::CompatError;
use super::keywords::{self, LIMITS};
use super::rules::{Change, Effect, Side};
use super::walk::{
    At, Keyed, Location, MAX_DEPTH, SchemaPair, Usage, Walk, key_change, required_or_optional,
    resolve,
};
use crate::spec_file::escape;

/// Keywords that hold subschemas of their own; compared here, not as values.
const SUBSCHEMAS: [&str; 5] = ["items", "additionalProperties", "oneOf", "anyOf", "not"];

/// Keywords judged as a property's presence on each side rather than as
/// values: clients do not send a read-only property, nor receive a
/// write-only one.
const VISIBILITY: [&str; 2] = ["readOnly", "writeOnly"];

/// The schema that admits anything: what a name that `required` lists, and
/// no `properties` declares, holds.
static ANY: Value = Value::Bool(true);

/// A schema with its `$ref` followed and its `allOf` members merged in.
struct Flat<'a> {
    /// Where each occurrence of the schema is written; its own keywords are
    /// at the first. Together they name the schema for the recursion guard.
    pointers: Vec<String>,
    /// Every other keyword, where it is written; the schema's own win over
    /// its members'.
    keywords: Keyed<'a>,
    /// The values of keywords that `allOf` members set too, other than the
    /// winning one: a member's constraint applies as well, so a change there
    /// must not go unseen.
    shadowed: BTreeMap<&'a str, Vec<At<'a>>>,
    /// Every declaration of each property, the schema's own first: all of
    /// them apply.
    properties: BTreeMap<&'a str, Vec<At<'a>>>,
    /// The names that `required` lists, each where it is listed first.
    required: Keyed<'a>,
}

impl<'a> Flat<'a> {
    /// Merges the occurrences of one schema (at least one): usually a single
    /// one, several for a property declared in a schema and in its members.
    fn new(doc: &'a Value, occurrences: &[At<'a>]) -> Result<Flat<'a>, CompatError> {
        let mut flat = Flat {
            pointers: Vec::new(),
            keywords: Keyed::new(),
            shadowed: BTreeMap::new(),
            properties: BTreeMap::new(),
            required: Keyed::new(),
        };
        for at in occurrences {
            let at = resolve(doc, at.clone())?;
            flat.pointers.push(at.pointer.clone());
            flat.merge(doc, at, 0)?;
        }
        Ok(flat)
    }

    fn merge(&mut self, doc: &'a Value, at: At<'a>, depth: usize) -> Result<(), CompatError> {
        if depth > MAX_DEPTH {
            return Err(CompatError::RefLoop {
                pointer: at.pointer,
            });
        }
        let mut members = Vec::new();
        for (keyword, child) in at.keyed() {
            match keyword {
                "properties" => {
                    for (name, property) in child.keyed() {
                        self.properties.entry(name).or_default().push(property);
                    }
                }
                "required" => {
                    for item in child.items() {
                        if let Some(name) = item.value.as_str() {
                            self.required.entry(name).or_insert(item);
                        }
                    }
                }
                "allOf" => members = child.items(),
                _ => match self.keywords.get(keyword) {
                    None => {
                        self.keywords.insert(keyword, child);
                    }
                    Some(winner) if winner.value != child.value => {
                        self.shadowed.entry(keyword).or_default().push(child);
                    }
                    Some(_) => {}
                },
            }
        }
        for member in members {
            let member = resolve(doc, member)?;
            self.merge(doc, member, depth + 1)?;
        }
        Ok(())
    }

    /// Where the schema's own keywords are written.
    fn pointer(&self) -> &str {
        &self.pointers[0]
    }

    fn get(&self, keyword: &str) -> Option<&'a Value> {
        self.keywords.get(keyword).map(|at| at.value)
    }

    /// Where a keyword is written, or would be.
    fn location(&self, keyword: &str) -> Location {
        Location::Current(match self.keywords.get(keyword) {
            Some(at) => at.pointer.clone(),
            None => format!("{}/{}", self.pointer(), escape(keyword)),
        })
    }

    /// Whether the object says that it admits properties it does not list.
    fn admits_unknown(&self) -> bool {
        matches!(self.additional(), Additional::Any)
    }

    /// What `additionalProperties` admits, from least to most. JSON Schema
    /// reads an absent keyword as `true`, but openapi-generator's clients
    /// read it as `false` (its `disallowAdditionalPropertiesIfNotPresent`
    /// defaults to true: its Go client rejects an unknown field), so only
    /// `true` and `{}` admit anything.
    fn additional(&self) -> Additional<'a> {
        match self.keywords.get("additionalProperties") {
            None => Additional::Unsaid,
            Some(at) => match at.value {
                Value::Bool(true) => Additional::Any,
                Value::Object(schema) if schema.is_empty() => Additional::Any,
                Value::Bool(false) => Additional::Nothing,
                _ => Additional::Schema(at.clone()),
            },
        }
    }

    /// Why clients do not meet this schema's values on `side`, if they do
    /// not: a read-only value is not sent, a write-only one not received. A
    /// flag set by any `allOf` member counts.
    fn hidden_on(&self, side: Side) -> Option<&'static str> {
        let (keyword, word) = match side {
            Side::Request => ("readOnly", "read-only"),
            Side::Response => ("writeOnly", "write-only"),
        };
        let mut occurrences = self
            .keywords
            .get(keyword)
            .into_iter()
            .chain(self.shadowed.get(keyword).into_iter().flatten());
        occurrences
            .any(|at| *at.value == Value::Bool(true))
            .then_some(word)
    }

    /// The property `name` as clients meet it on `side`.
    fn property(
        &self,
        doc: &'a Value,
        name: &str,
        side: Side,
    ) -> Result<Presence<'a>, CompatError> {
        let (occurrences, pointer) = match (self.properties.get(name), self.required.get(name)) {
            (Some(declared), _) => (declared.clone(), declared[0].pointer.clone()),
            (None, Some(listed)) => {
                let anything = At {
                    value: &ANY,
                    pointer: format!("{}/properties/{}", self.pointer(), escape(name)),
                };
                (vec![anything], listed.pointer.clone())
            }
            (None, None) => return Ok(Presence::Absent),
        };
        let schema = Flat::new(doc, &occurrences)?;
        Ok(match schema.hidden_on(side) {
            Some(why) => Presence::Hidden { pointer, why },
            None => Presence::Present(Property {
                schema,
                pointer,
                required: self.required.contains_key(name),
            }),
        })
    }
}

/// What an object admits besides its listed properties.
enum Additional<'a> {
    Nothing,
    /// No `additionalProperties`: as `false`, for the generators that matter.
    Unsaid,
    Schema(At<'a>),
    Any,
}

impl Additional<'_> {
    fn rank(&self) -> u8 {
        match self {
            Additional::Nothing | Additional::Unsaid => 0,
            Additional::Schema(_) => 1,
            Additional::Any => 2,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Additional::Nothing => "false",
            Additional::Unsaid => "absent (read as false)",
            Additional::Schema(_) => "a schema",
            Additional::Any => "true",
        }
    }
}

/// Whether, and how, clients meet a property on one side.
enum Presence<'a> {
    /// The object names no such property.
    Absent,
    /// Declared, but not on this side: `why` is `read-only` or `write-only`.
    Hidden {
        pointer: String,
        why: &'static str,
    },
    Present(Property<'a>),
}

/// A property that clients meet.
struct Property<'a> {
    /// Its declarations merged (anything, when only `required` names it).
    schema: Flat<'a>,
    /// Where it is declared, or else where `required` names it.
    pointer: String,
    required: bool,
}

impl<'a> Walk<'a> {
    /// Compares a schema of the released document with one of the current
    /// document, where values travel `side`.
    pub(super) fn schema(
        &mut self,
        old: At<'a>,
        new: At<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let old = Flat::new(self.released(), &[old])?;
        let new = Flat::new(self.current(), &[new])?;
        self.flats(&old, &new, side, usage)
    }

    /// Compares the schemas of two parameters, as [`Walk::schema`] does
    /// for values sent, but for their `nullable`: a query string, a path or
    /// a header cannot carry `null`, and clients generated with it leave an
    /// unset parameter out (openapi-python-client, openapi-fetch,
    /// openapi-generator's Go client: none sent `?name=null`), so adding or
    /// removing it changes nothing on the wire.
    pub(super) fn parameter_schema(
        &mut self,
        old: At<'a>,
        new: At<'a>,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let mut old = Flat::new(self.released(), &[old])?;
        let mut new = Flat::new(self.current(), &[new])?;
        old.keywords.remove("nullable");
        new.keywords.remove("nullable");
        self.flats(&old, &new, Side::Request, usage)
    }

    fn flats(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let pair: SchemaPair = (old.pointers.clone(), new.pointers.clone());
        self.once_per_recursion(pair, |walk| walk.flat(old, new, side, usage))
    }

    fn flat(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        for (keyword, limit) in LIMITS {
            if let Some((effect, detail)) =
                keywords::compare(keyword, *limit, old.get(keyword), new.get(keyword))
            {
                let change = Change::Constraint { keyword, effect };
                self.record(
                    change,
                    Some(side),
                    new.location(keyword),
                    detail,
                    Some(usage),
                );
            }
        }
        if old.get("default") != new.get("default") {
            let detail = format!(
                "default: {} → {}",
                keywords::show(old.get("default")),
                keywords::show(new.get("default"))
            );
            let location = new.location("default");
            self.record(
                Change::DefaultChanged,
                Some(side),
                location,
                detail,
                Some(usage),
            );
        }
        self.properties(old, new, side, usage)?;
        self.items(old, new, side, usage)?;
        self.additional_properties(old, new, side, usage)?;
        for keyword in ["oneOf", "anyOf"] {
            self.variants(keyword, old, new, side, usage)?;
        }
        self.not(old, new, side, usage)?;
        self.shadowed(old, new, side, usage)?;
        let mut handled: Vec<&str> = LIMITS.iter().map(|(keyword, _)| *keyword).collect();
        handled.extend(SUBSCHEMAS);
        handled.extend(VISIBILITY);
        handled.push("default");
        self.other_keys(
            &old.keywords,
            &new.keywords,
            new.pointer(),
            &handled,
            Change::Unclassified,
            Some(side),
            usage,
        );
        Ok(())
    }

    /// Reports a change to a keyword that an `allOf` member sets besides
    /// the winning value: as [`key_change`] classifies it, and a constraint
    /// as unclassified (what two constraints on one value admit together is
    /// more than this walk works out). Subschemas compare with their `$ref`s
    /// followed.
    fn shadowed(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let values = |doc: &'a Value, flat: &Flat<'a>, keyword: &str| -> Result<Vec<Value>, _> {
            let occurrences = flat.shadowed.get(keyword).into_iter().flatten();
            occurrences.map(|at| inlined(doc, at)).collect()
        };
        let keywords: BTreeSet<&str> = old
            .shadowed
            .keys()
            .chain(new.shadowed.keys())
            .copied()
            .filter(|keyword| !VISIBILITY.contains(keyword))
            .collect();
        for keyword in keywords {
            if values(self.released(), old, keyword)? == values(self.current(), new, keyword)? {
                continue;
            }
            let location = match new.shadowed.get(keyword).and_then(|all| all.first()) {
                Some(at) => Location::Current(at.pointer.clone()),
                None => new.location(keyword),
            };
            let detail = format!("{keyword} of an allOf member changed");
            let change = key_change(keyword, Change::Unclassified);
            self.record(change, Some(side), location, detail, Some(usage));
        }
        Ok(())
    }

    /// Every property either object declares or requires, as clients meet
    /// it on `side`.
    fn properties(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let names: BTreeSet<&str> = [old, new]
            .into_iter()
            .flat_map(|flat| flat.properties.keys().chain(flat.required.keys()))
            .copied()
            .collect();
        for name in names {
            let usage = usage.within(&format!(".{name}"));
            let old_property = old.property(self.released(), name, side)?;
            let new_property = new.property(self.current(), name, side)?;
            match (old_property, new_property) {
                (Presence::Present(o), Presence::Present(n)) => {
                    if o.required != n.required {
                        self.record(
                            Change::PropertyRequirement {
                                now_required: n.required,
                            },
                            Some(side),
                            Location::Current(n.pointer),
                            format!("`{name}` now {}", required_or_optional(n.required)),
                            Some(&usage),
                        );
                    }
                    self.flats(&o.schema, &n.schema, side, &usage)?;
                }
                (Presence::Present(o), gone) => {
                    let (location, detail, still_accepted) = match gone {
                        // Still declared, so a value sent is still admitted.
                        Presence::Hidden { pointer, why } => (
                            Location::Current(pointer),
                            format!("`{name}` now {why}"),
                            true,
                        ),
                        _ => (
                            Location::Released(o.pointer),
                            format!("`{name}` removed"),
                            new.admits_unknown(),
                        ),
                    };
                    let change = Change::PropertyRemoved { still_accepted };
                    self.record(change, Some(side), location, detail, Some(&usage));
                }
                (before, Presence::Present(n)) => {
                    let how = required_or_optional(n.required);
                    let detail = match before {
                        Presence::Hidden { why, .. } => format!("`{name}` no longer {why} ({how})"),
                        _ => format!("`{name}` added ({how})"),
                    };
                    let change = Change::PropertyAdded {
                        required: n.required,
                        open_before: old.admits_unknown(),
                    };
                    let location = Location::Current(n.pointer);
                    self.record(change, Some(side), location, detail, Some(&usage));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn items(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        if let (Some(o), Some(n)) = (old.keywords.get("items"), new.keywords.get("items")) {
            return self.schema(o.clone(), n.clone(), side, &usage.within("[]"));
        }
        let (o, n) = (old.get("items"), new.get("items"));
        self.subschema_changed("items", o, n, new, side, usage);
        Ok(())
    }

    /// `not`: what it rules out, with every `$ref` in it followed, compares
    /// as a whole; nothing finer can be said about what a schema admits once
    /// other values are excluded.
    fn not(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let excluded = |doc: &'a Value, flat: &Flat<'a>| {
            let at = flat.keywords.get("not");
            at.map(|at| inlined(doc, at)).transpose()
        };
        let o = excluded(self.released(), old)?;
        let n = excluded(self.current(), new)?;
        self.subschema_changed("not", o.as_ref(), n.as_ref(), new, side, usage);
        Ok(())
    }

    /// Reports a subschema that differs: added (the schema admits fewer
    /// values), removed (more), or, compared as a whole, changed.
    fn subschema_changed(
        &mut self,
        keyword: &'static str,
        old: Option<&Value>,
        new: Option<&Value>,
        new_flat: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) {
        if old == new {
            return;
        }
        let shape = |value: Option<&Value>| {
            if value.is_some() {
                "a schema"
            } else {
                "absent"
            }
        };
        let (effect, detail) = match keywords::presence(old, new) {
            Some(effect) => (
                effect,
                format!("{keyword}: {} → {}", shape(old), shape(new)),
            ),
            None => (Effect::Changed, format!("{keyword}: the schema changed")),
        };
        let change = Change::Constraint { keyword, effect };
        let location = new_flat.location(keyword);
        self.record(change, Some(side), location, detail, Some(usage));
    }

    fn additional_properties(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let (old_extra, new_extra) = (old.additional(), new.additional());
        if let (Additional::Schema(o), Additional::Schema(n)) = (&old_extra, &new_extra) {
            return self.schema(o.clone(), n.clone(), side, &usage.within(".*"));
        }
        let effect = match new_extra.rank().cmp(&old_extra.rank()) {
            std::cmp::Ordering::Equal => return Ok(()),
            std::cmp::Ordering::Greater => Effect::Widened,
            std::cmp::Ordering::Less => Effect::Narrowed,
        };
        let detail = format!(
            "additionalProperties: {} → {}",
            old_extra.describe(),
            new_extra.describe()
        );
        let change = Change::Constraint {
            keyword: "additionalProperties",
            effect,
        };
        let location = new.location("additionalProperties");
        self.record(change, Some(side), location, detail, Some(usage));
        Ok(())
    }

    /// `oneOf` and `anyOf`: variants compared pairwise (see [`paired`]);
    /// more variants admit more, fewer admit less, and a list where there was
    /// none admits less.
    fn variants(
        &mut self,
        keyword: &'static str,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let (old_list, new_list) = (old.keywords.get(keyword), new.keywords.get(keyword));
        let old_variants = old_list.map(At::items).unwrap_or_default();
        let new_variants = new_list.map(At::items).unwrap_or_default();
        let pairs = paired(
            (self.released(), &old_variants),
            (self.current(), &new_variants),
        )?;
        for (o, n) in pairs {
            let usage = usage.within(&format!(" ({keyword} {n})"));
            let (o, n) = (old_variants[o].clone(), new_variants[n].clone());
            self.schema(o, n, side, &usage)?;
        }
        let effect = match keywords::presence(old.get(keyword), new.get(keyword)) {
            Some(effect) => effect,
            None => match new_variants.len().cmp(&old_variants.len()) {
                std::cmp::Ordering::Equal => return Ok(()),
                std::cmp::Ordering::Greater => Effect::Widened,
                std::cmp::Ordering::Less => Effect::Narrowed,
            },
        };
        let count = |list: Option<&At<'_>>, variants: &[At<'_>]| match list {
            None => "absent".to_owned(),
            Some(_) => format!("{} variants", variants.len()),
        };
        let detail = format!(
            "{keyword}: {} → {}",
            count(old_list, &old_variants),
            count(new_list, &new_variants)
        );
        let change = Change::Constraint { keyword, effect };
        self.record(
            change,
            Some(side),
            new.location(keyword),
            detail,
            Some(usage),
        );
        Ok(())
    }
}

/// Pairs the variants of a released and a current `oneOf` or `anyOf`, as
/// indices: those that name the same schema first, then those that say the
/// same, then the rest in order. Reordering variants is then no change.
fn paired<'a>(
    (old_doc, old): (&'a Value, &[At<'a>]),
    (new_doc, new): (&'a Value, &[At<'a>]),
) -> Result<Vec<(usize, usize)>, CompatError> {
    let targets =
        |doc: &'a Value, variants: &[At<'a>]| -> Result<Vec<Option<String>>, CompatError> {
            let target = |at: &At<'a>| -> Result<Option<String>, CompatError> {
                if at.value.get("$ref").is_none() {
                    return Ok(None);
                }
                Ok(Some(resolve(doc, at.clone())?.pointer))
            };
            variants.iter().map(target).collect()
        };
    let contents = |doc: &'a Value, variants: &[At<'a>]| -> Result<Vec<Value>, CompatError> {
        variants.iter().map(|at| inlined(doc, at)).collect()
    };
    let (old_targets, new_targets) = (targets(old_doc, old)?, targets(new_doc, new)?);
    let (old_contents, new_contents) = (contents(old_doc, old)?, contents(new_doc, new)?);
    let same_target =
        |o: usize, n: usize| old_targets[o].is_some() && old_targets[o] == new_targets[n];
    let same_content = |o: usize, n: usize| old_contents[o] == new_contents[n];
    let in_order = |_: usize, _: usize| true;
    let mut pairs = Vec::new();
    let (mut old_free, mut new_free) = (vec![true; old.len()], vec![true; new.len()]);
    for matches in [
        &same_target as &dyn Fn(usize, usize) -> bool,
        &same_content,
        &in_order,
    ] {
        for (o, old_is_free) in old_free.iter_mut().enumerate() {
            if !*old_is_free {
                continue;
            }
            if let Some(n) = (0..new.len()).find(|&n| new_free[n] && matches(o, n)) {
                (*old_is_free, new_free[n]) = (false, false);
                pairs.push((o, n));
            }
        }
    }
    pairs.sort_by_key(|&(_, n)| n);
    Ok(pairs)
}

/// A subschema with every `$ref` in it replaced by what it names, to compare
/// what it says rather than the names it uses. A `$ref` met again inside
/// what it names (a recursive schema) stays as written.
fn inlined<'a>(doc: &'a Value, at: &At<'a>) -> Result<Value, CompatError> {
    fn expand<'a>(
        doc: &'a Value,
        at: At<'a>,
        expanding: &mut Vec<&'a str>,
    ) -> Result<Value, CompatError> {
        if let Some(reference) = at.value.get("$ref").and_then(Value::as_str) {
            if expanding.contains(&reference) {
                return Ok(at.value.clone());
            }
            expanding.push(reference);
            let expanded = resolve(doc, at).and_then(|target| expand(doc, target, expanding));
            expanding.pop();
            return expanded;
        }
        Ok(match at.value {
            Value::Object(_) => Value::Object(
                at.keyed()
                    .into_iter()
                    .map(|(key, child)| Ok((key.to_owned(), expand(doc, child, expanding)?)))
                    .collect::<Result<Map<_, _>, CompatError>>()?,
            ),
            Value::Array(_) => Value::Array(
                at.items()
                    .into_iter()
                    .map(|item| expand(doc, item, expanding))
                    .collect::<Result<_, _>>()?,
            ),
            value => value.clone(),
        })
    }
    expand(doc, at.clone(), &mut Vec::new())
}
