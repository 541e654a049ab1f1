//! Schema comparison: two schemas, with their `$ref`s followed and their
//! `allOf` members merged in, keyword by keyword and property by property.
//!
//! Merging first means that rewriting a schema without changing what it
//! admits (an inline schema moved to `components`, a `$ref` wrapped in
//! `allOf` to add a description) is no change, and that a change is reported
//! where it is written: a pattern changed in `Decimal` at
//! `/components/schemas/Decimal/pattern`, with the places that use it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::CompatError;
use super::keywords::{self, LIMITS};
use super::rules::{Change, Effect, Side};
use super::walk::{At, DOCUMENTATION, Keyed, Location, Usage, Walk, escape, resolve};

/// Deepest nesting of `allOf` merged before giving up on a loop.
const MAX_ALL_OF_DEPTH: usize = 32;

/// Keywords that hold subschemas of their own; compared here, not as values.
const SUBSCHEMAS: [&str; 4] = ["items", "additionalProperties", "oneOf", "anyOf"];

/// A schema with its `$ref` followed and its `allOf` members merged in.
struct Flat<'a> {
    /// Where the schema is written.
    pointer: String,
    /// Every other keyword, where it is written; the schema's own win over
    /// its members'.
    keywords: Keyed<'a>,
    /// The values of keywords that `allOf` members set too, other than the
    /// winning one: a member's constraint applies as well, so a change there
    /// must not go unseen.
    shadowed: BTreeMap<&'a str, Vec<At<'a>>>,
    properties: Keyed<'a>,
    required: BTreeSet<&'a str>,
}

impl<'a> Flat<'a> {
    fn new(doc: &'a Value, at: At<'a>) -> Result<Flat<'a>, CompatError> {
        let at = resolve(doc, at)?;
        let mut flat = Flat {
            pointer: at.pointer.clone(),
            keywords: Keyed::new(),
            shadowed: BTreeMap::new(),
            properties: Keyed::new(),
            required: BTreeSet::new(),
        };
        flat.merge(doc, at, 0)?;
        Ok(flat)
    }

    fn merge(&mut self, doc: &'a Value, at: At<'a>, depth: usize) -> Result<(), CompatError> {
        if depth > MAX_ALL_OF_DEPTH {
            return Err(CompatError::RefLoop {
                pointer: at.pointer,
            });
        }
        let mut members = Vec::new();
        for (keyword, child) in at.keyed() {
            match keyword {
                "properties" => {
                    for (name, property) in child.keyed() {
                        self.properties.entry(name).or_insert(property);
                    }
                }
                "required" => self.required.extend(
                    child
                        .value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str),
                ),
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

    fn get(&self, keyword: &str) -> Option<&'a Value> {
        self.keywords.get(keyword).map(|at| at.value)
    }

    /// Where a keyword is written, or would be.
    fn location(&self, keyword: &str) -> Location {
        Location::Current(match self.keywords.get(keyword) {
            Some(at) => at.pointer.clone(),
            None => format!("{}/{}", self.pointer, escape(keyword)),
        })
    }

    /// Whether the object admits no property it does not list.
    fn is_closed(&self) -> bool {
        self.get("additionalProperties") == Some(&Value::Bool(false))
    }

    /// What `additionalProperties` admits, from least to most.
    fn additional(&self) -> Additional<'a> {
        match self.keywords.get("additionalProperties") {
            None => Additional::Any,
            Some(at) => match at.value {
                Value::Bool(true) => Additional::Any,
                Value::Bool(false) => Additional::Nothing,
                _ => Additional::Schema(at.clone()),
            },
        }
    }
}

/// What an object admits besides its listed properties.
enum Additional<'a> {
    Nothing,
    Schema(At<'a>),
    Any,
}

impl Additional<'_> {
    fn rank(&self) -> u8 {
        match self {
            Additional::Nothing => 0,
            Additional::Schema(_) => 1,
            Additional::Any => 2,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Additional::Nothing => "false",
            Additional::Schema(_) => "a schema",
            Additional::Any => "true",
        }
    }
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
        let old = Flat::new(self.old, old)?;
        let new = Flat::new(self.new, new)?;
        let pair = (old.pointer.clone(), new.pointer.clone());
        if self.in_progress.contains(&pair) {
            // A recursive schema: its comparison is already under way.
            return Ok(());
        }
        self.in_progress.push(pair);
        let compared = self.flat(&old, &new, side, usage);
        self.in_progress.pop();
        compared
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
        self.shadowed(old, new, side, usage);
        let mut handled: Vec<&str> = LIMITS.iter().map(|(keyword, _)| *keyword).collect();
        handled.extend(SUBSCHEMAS);
        handled.push("default");
        self.other_keys(
            &old.keywords,
            &new.keywords,
            &new.pointer,
            &handled,
            Change::Unclassified,
            Some(side),
            Some(usage),
        );
        Ok(())
    }

    /// Reports a change to a keyword that an `allOf` member sets besides
    /// the winning value: prose as documentation, anything else as
    /// unclassified (what two constraints on one value admit together is
    /// more than this walk works out).
    fn shadowed(&mut self, old: &Flat<'a>, new: &Flat<'a>, side: Side, usage: &Usage) {
        let values = |flat: &Flat<'a>, keyword: &str| -> Vec<&'a Value> {
            let occurrences = flat
                .shadowed
                .get(keyword)
                .map(Vec::as_slice)
                .unwrap_or_default();
            occurrences.iter().map(|at| at.value).collect()
        };
        let keywords: BTreeSet<&str> = old
            .shadowed
            .keys()
            .chain(new.shadowed.keys())
            .copied()
            .collect();
        for keyword in keywords {
            if values(old, keyword) == values(new, keyword) {
                continue;
            }
            let change = if DOCUMENTATION.contains(&keyword) {
                Change::Documentation
            } else {
                Change::Unclassified
            };
            let location = match new.shadowed.get(keyword).and_then(|all| all.first()) {
                Some(at) => Location::Current(at.pointer.clone()),
                None => new.location(keyword),
            };
            let detail = format!("{keyword} of an allOf member changed");
            self.record(change, Some(side), location, detail, Some(usage));
        }
    }

    fn properties(
        &mut self,
        old: &Flat<'a>,
        new: &Flat<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        for (name, old_property) in &old.properties {
            if !new.properties.contains_key(name) {
                self.record(
                    Change::PropertyRemoved {
                        still_accepted: !new.is_closed(),
                    },
                    Some(side),
                    Location::Released(old_property.pointer.clone()),
                    format!("`{name}` removed"),
                    Some(&usage.within(&format!(".{name}"))),
                );
            }
        }
        for (name, new_property) in &new.properties {
            let usage = usage.within(&format!(".{name}"));
            let now_required = new.required.contains(name);
            let Some(old_property) = old.properties.get(name) else {
                self.record(
                    Change::PropertyAdded {
                        required: now_required,
                        closed_before: old.is_closed(),
                    },
                    Some(side),
                    Location::Current(new_property.pointer.clone()),
                    format!(
                        "`{name}` added ({})",
                        if now_required { "required" } else { "optional" }
                    ),
                    Some(&usage),
                );
                continue;
            };
            if old.required.contains(name) != now_required {
                self.record(
                    Change::PropertyRequirement { now_required },
                    Some(side),
                    Location::Current(new_property.pointer.clone()),
                    format!(
                        "`{name}` now {}",
                        if now_required { "required" } else { "optional" }
                    ),
                    Some(&usage),
                );
            }
            self.schema(old_property.clone(), new_property.clone(), side, &usage)?;
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
        let effect = match (old.keywords.get("items"), new.keywords.get("items")) {
            (Some(o), Some(n)) => {
                return self.schema(o.clone(), n.clone(), side, &usage.within("[]"));
            }
            (None, None) => return Ok(()),
            (Some(_), None) => Effect::Widened,
            (None, Some(_)) => Effect::Narrowed,
        };
        let detail = format!(
            "items: {} → {}",
            if old.get("items").is_some() {
                "a schema"
            } else {
                "absent"
            },
            if new.get("items").is_some() {
                "a schema"
            } else {
                "absent"
            },
        );
        let change = Change::Constraint {
            keyword: "items",
            effect,
        };
        self.record(
            change,
            Some(side),
            new.location("items"),
            detail,
            Some(usage),
        );
        Ok(())
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

    /// `oneOf` and `anyOf`: variants compared in order; more variants admit
    /// more, fewer admit less, and a list where there was none admits less.
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
        for (index, (o, n)) in old_variants.iter().zip(&new_variants).enumerate() {
            let usage = usage.within(&format!(" ({keyword} {index})"));
            self.schema(o.clone(), n.clone(), side, &usage)?;
        }
        let effect = match (old_list, new_list) {
            (None, None) => return Ok(()),
            (None, Some(_)) => Effect::Narrowed,
            (Some(_), None) => Effect::Widened,
            (Some(_), Some(_)) => match new_variants.len().cmp(&old_variants.len()) {
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
