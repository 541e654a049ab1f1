//! The diff walker: the released document and the current one side by side,
//! operation by operation, following `$ref`s, so that a change inside a
//! referenced component is found and judged where clients meet it.
//!
//! Only what an operation reaches is compared: a component no operation uses
//! cannot affect a client. Operations are matched by method and path
//! template, whatever their path parameters are called (renaming one is
//! reported as a parameter removed and another added).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use super::CompatError;
use super::keywords::show;
use super::rules::{Change, Impact, Side};
use crate::spec_file::{OPERATION_METHODS, escape};

/// Keywords of prose and examples, wherever they are. (`title` and `tags`
/// read like prose, but generators name types and classes after them.)
const DOCUMENTATION: [&str; 6] = [
    "description",
    "summary",
    "example",
    "examples",
    "externalDocs",
    "links",
];

/// The change of a key that no rule of its own compares: prose is
/// documentation, a name that generators use is a rename, `deprecated` a
/// notice, and anything else `otherwise`.
pub(super) fn key_change(key: &str, otherwise: Change) -> Change {
    match key {
        _ if DOCUMENTATION.contains(&key) => Change::Documentation,
        "tags" => Change::TagsChanged,
        "title" => Change::TitleChanged,
        "deprecated" => Change::Deprecation,
        _ => otherwise,
    }
}

/// Longest chain of `$ref`s, and deepest nesting of `allOf`, followed
/// before giving up on a loop.
pub(super) const MAX_DEPTH: usize = 32;

/// One change, with every place where it matters.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub change: Change,
    /// Which way the changed value travels, when the rule varies by side.
    pub side: Option<Side>,
    pub location: Location,
    /// What changed, in a few words.
    pub detail: String,
    /// The operations, and where in them, that the change reaches.
    pub usages: Vec<String>,
}

impl Finding {
    /// The impact of the change, and why.
    pub fn impact(&self) -> (Impact, &'static str) {
        self.change.rule().on(self.side)
    }
}

/// Where a change is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A JSON pointer into the current document.
    Current(String),
    /// A JSON pointer into the released document, for what the current one
    /// no longer has.
    Released(String),
}

/// A JSON value and where it is in its document.
#[derive(Clone, Debug)]
pub(super) struct At<'a> {
    pub value: &'a Value,
    pub pointer: String,
}

/// The entries of an object, by key.
pub(super) type Keyed<'a> = BTreeMap<&'a str, At<'a>>;

impl<'a> At<'a> {
    fn root(doc: &'a Value) -> At<'a> {
        At {
            value: doc,
            pointer: String::new(),
        }
    }

    pub fn child(&self, key: &str) -> Option<At<'a>> {
        let value = match self.value {
            Value::Object(object) => object.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
        Some(At {
            value,
            pointer: format!("{}/{}", self.pointer, escape(key)),
        })
    }

    /// The entries of an object (none for anything else).
    pub fn keyed(&self) -> Keyed<'a> {
        let Value::Object(object) = self.value else {
            return Keyed::new();
        };
        object
            .iter()
            .map(|(key, value)| {
                let pointer = format!("{}/{}", self.pointer, escape(key));
                (key.as_str(), At { value, pointer })
            })
            .collect()
    }

    /// The items of an array (none for anything else).
    pub fn items(&self) -> Vec<At<'a>> {
        let Value::Array(items) = self.value else {
            return Vec::new();
        };
        (0..items.len())
            .filter_map(|index| self.child(&index.to_string()))
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        self.value
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// Follows `$ref`s to what they name; only references within the document
/// (`#/...`) are meaningful in a self-contained contract.
pub(super) fn resolve<'a>(doc: &'a Value, mut at: At<'a>) -> Result<At<'a>, CompatError> {
    for _ in 0..MAX_DEPTH {
        let Some(reference) = at.value.get("$ref").and_then(Value::as_str) else {
            return Ok(at);
        };
        let unresolved = || CompatError::UnresolvedRef {
            reference: reference.to_owned(),
            pointer: at.pointer.clone(),
        };
        let fragment = reference.strip_prefix('#').ok_or_else(unresolved)?;
        // A URI fragment: percent-encoded (`%7Bid%7D`) before it is a JSON
        // pointer, whose `~1` and `~0` `Value::pointer` unescapes.
        let pointer = percent_decoded(fragment).ok_or_else(unresolved)?;
        let value = doc.pointer(&pointer).ok_or_else(unresolved)?;
        at = At { value, pointer };
    }
    Err(CompatError::RefLoop {
        pointer: at.pointer,
    })
}

/// `text` with its `%XX` escapes decoded; `None` if one is malformed or the
/// result is not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The word for a requirement, in details: "`note` now required".
pub(super) fn required_or_optional(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

/// Where in an operation a value travels, for the report: `put_run request
/// body .files[].source`.
#[derive(Clone, Debug)]
pub(super) struct Usage {
    operation: String,
    place: String,
    payload: String,
}

impl Usage {
    fn operation(name: String) -> Usage {
        Usage {
            operation: name,
            place: String::new(),
            payload: String::new(),
        }
    }

    fn place(&self, place: String) -> Usage {
        Usage {
            operation: self.operation.clone(),
            place,
            payload: String::new(),
        }
    }

    /// One step deeper into the value: `.name`, `[]` or `.*`.
    pub fn within(&self, step: &str) -> Usage {
        Usage {
            payload: format!("{}{step}", self.payload),
            ..self.clone()
        }
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        for part in [&self.place, &self.payload] {
            if !part.is_empty() {
                write!(f, " {part}")?;
            }
        }
        Ok(())
    }
}

/// Compares the released document with the current one.
pub fn compare(released: &Value, current: &Value) -> Result<Vec<Finding>, CompatError> {
    let mut walk = Walk {
        old: released,
        new: current,
        found: BTreeMap::new(),
        in_progress: Vec::new(),
    };
    let old_operations = operations(released)?;
    let new_operations = operations(current)?;
    for (key, old) in &old_operations {
        match new_operations.get(key) {
            Some(new) => walk.operation(old, new)?,
            None => walk.record(
                Change::OperationRemoved,
                None,
                Location::Released(old.at.pointer.clone()),
                old.describe(),
                None,
            ),
        }
    }
    for (key, new) in &new_operations {
        if !old_operations.contains_key(key) {
            walk.record(
                Change::OperationAdded,
                None,
                Location::Current(new.at.pointer.clone()),
                new.describe(),
                None,
            );
        }
    }
    Ok(walk.findings())
}

/// The state of one comparison.
pub(super) struct Walk<'a> {
    old: &'a Value,
    new: &'a Value,
    /// Every change found, with the usages that reach it.
    found: BTreeMap<(Change, Option<Side>, Location, String), Vec<String>>,
    /// The schemas being compared, each named by where it is written, so
    /// that recursive schemas end.
    in_progress: Vec<SchemaPair>,
}

/// Two schemas under comparison, each named by the places it is written.
pub(super) type SchemaPair = (Vec<String>, Vec<String>);

/// An operation of a document.
struct Operation<'a> {
    method: &'static str,
    path: &'a str,
    /// The path item, for the parameters its operations share.
    item: At<'a>,
    at: At<'a>,
}

impl Operation<'_> {
    fn name(&self) -> String {
        match self.at.value.get("operationId").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => format!("{} {}", self.method.to_uppercase(), self.path),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} {} ({})",
            self.method.to_uppercase(),
            self.path,
            self.name()
        )
    }
}

/// The operations of a document, by path template (with its parameters
/// unnamed) and method.
fn operations(doc: &Value) -> Result<BTreeMap<(String, &'static str), Operation<'_>>, CompatError> {
    let mut found = BTreeMap::new();
    let Some(paths) = At::root(doc).child("paths") else {
        return Ok(found);
    };
    for (path, item) in paths.keyed() {
        let item = resolve(doc, item)?;
        for method in OPERATION_METHODS {
            if let Some(at) = item.child(method) {
                let template = unnamed_parameters(path);
                let operation = Operation {
                    method,
                    path,
                    item: item.clone(),
                    at,
                };
                found.insert((template, method), operation);
            }
        }
    }
    Ok(found)
}

/// `/run/{run_id}` → `/run/{}`.
fn unnamed_parameters(path: &str) -> String {
    let mut template = String::with_capacity(path.len());
    let mut in_name = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_name = true;
                template.push('{');
            }
            '}' => {
                in_name = false;
                template.push('}');
            }
            _ if in_name => {}
            _ => template.push(c),
        }
    }
    template
}

/// A parameter of an operation, after following its `$ref`.
struct Parameter<'a> {
    /// Where the operation lists it (perhaps as a `$ref`).
    site: String,
    at: At<'a>,
    location: String,
    name: String,
}

impl Parameter<'_> {
    fn describe(&self) -> String {
        format!("{} parameter {}", self.location, self.name)
    }

    /// The value of a serialization keyword, defaults spelled out.
    fn serialization(&self, keyword: &str) -> Value {
        if let Some(value) = self.at.value.get(keyword) {
            return value.clone();
        }
        let style = match self.location.as_str() {
            "query" | "cookie" => "form",
            _ => "simple",
        };
        match keyword {
            "style" => Value::from(style),
            // `form` explodes by default, no other style does.
            "explode" => Value::Bool(self.serialization("style") == "form"),
            _ => Value::Bool(false),
        }
    }
}

const SERIALIZATION: [&str; 4] = ["style", "explode", "allowReserved", "allowEmptyValue"];

/// Requirement objects: scheme → scopes. Empty: no authentication.
type Requirement = BTreeMap<String, BTreeSet<String>>;

impl<'a> Walk<'a> {
    /// The released document.
    pub fn released(&self) -> &'a Value {
        self.old
    }

    /// The current document.
    pub fn current(&self) -> &'a Value {
        self.new
    }

    /// Runs `compare` on two schemas, unless the same two are already being
    /// compared further up: there a recursive schema has been seen whole.
    pub fn once_per_recursion(
        &mut self,
        pair: SchemaPair,
        compare: impl FnOnce(&mut Walk<'a>) -> Result<(), CompatError>,
    ) -> Result<(), CompatError> {
        if self.in_progress.contains(&pair) {
            return Ok(());
        }
        self.in_progress.push(pair);
        let compared = compare(self);
        self.in_progress.pop();
        compared
    }

    /// Notes a change; the same change met through several usages is one
    /// finding.
    /// Records `change` when `required` differs between the two sides of
    /// `what` (a parameter, a request body, a header).
    fn requirement(
        &mut self,
        (old, new): (&At<'a>, &At<'a>),
        what: &str,
        change: fn(bool) -> Change,
        usage: &Usage,
    ) {
        let now_required = new.flag("required");
        if old.flag("required") != now_required {
            self.record(
                change(now_required),
                None,
                Location::Current(format!("{}/required", new.pointer)),
                format!("{what} now {}", required_or_optional(now_required)),
                Some(usage),
            );
        }
    }

    pub fn record(
        &mut self,
        change: Change,
        side: Option<Side>,
        location: Location,
        detail: String,
        usage: Option<&Usage>,
    ) {
        let side = side.filter(|_| change.rule().varies_by_side());
        let usages = self
            .found
            .entry((change, side, location, detail))
            .or_default();
        if let Some(usage) = usage.map(Usage::to_string)
            && !usages.contains(&usage)
        {
            usages.push(usage);
        }
    }

    /// The findings, the worst first.
    fn findings(self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self
            .found
            .into_iter()
            .map(|((change, side, location, detail), usages)| Finding {
                change,
                side,
                location,
                detail,
                usages,
            })
            .collect();
        findings.sort_by(|a, b| {
            b.impact()
                .0
                .cmp(&a.impact().0)
                .then_with(|| a.location.cmp(&b.location))
                .then(a.side.cmp(&b.side))
        });
        findings
    }

    /// Reports the keys of two objects that differ and that nothing else
    /// compares, as [`key_change`] classifies them.
    #[allow(clippy::too_many_arguments)]
    pub fn other_keys(
        &mut self,
        old: &Keyed<'a>,
        new: &Keyed<'a>,
        new_pointer: &str,
        handled: &[&str],
        otherwise: Change,
        side: Option<Side>,
        usage: &Usage,
    ) {
        let keys: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
        for key in keys {
            // `deprecated: false` says what leaving it out says.
            let value = |keyed: &Keyed<'a>| {
                let value = keyed.get(key).map(|a| a.value);
                value.filter(|v| key != "deprecated" || **v != Value::Bool(false))
            };
            let (o, n) = (value(old), value(new));
            if handled.contains(&key) || o == n {
                continue;
            }
            let change = key_change(key, otherwise);
            let detail = match change {
                Change::Documentation => format!("{key} changed"),
                _ => format!("{key}: {} → {}", brief(o), brief(n)),
            };
            let location = Location::Current(match new.get(key) {
                Some(at) => at.pointer.clone(),
                None => format!("{new_pointer}/{}", escape(key)),
            });
            self.record(change, side, location, detail, Some(usage));
        }
    }

    fn operation(&mut self, old: &Operation<'a>, new: &Operation<'a>) -> Result<(), CompatError> {
        let usage = Usage::operation(new.name());
        let (old_id, new_id) = (
            old.at.value.get("operationId"),
            new.at.value.get("operationId"),
        );
        if old_id != new_id {
            self.record(
                Change::OperationRenamed,
                None,
                Location::Current(format!("{}/operationId", new.at.pointer)),
                format!("operationId: {} → {}", show(old_id), show(new_id)),
                None,
            );
        }
        let handled = [
            "operationId",
            "parameters",
            "requestBody",
            "responses",
            "security",
        ];
        self.other_keys(
            &old.at.keyed(),
            &new.at.keyed(),
            &new.at.pointer,
            &handled,
            Change::Unclassified,
            None,
            &usage,
        );
        // What the path item says besides its operations and parameters
        // (`servers`, prose) applies to each of its operations.
        let mut handled = OPERATION_METHODS.to_vec();
        handled.push("parameters");
        self.other_keys(
            &old.item.keyed(),
            &new.item.keyed(),
            &new.item.pointer,
            &handled,
            Change::Unclassified,
            None,
            &usage,
        );
        self.parameters(old, new, &usage)?;
        self.request_body(old, new, &usage)?;
        self.responses(old, new, &usage)?;
        self.security(old, new, &usage)
    }

    /// The parameters of an operation, its path item's included, by location
    /// and name.
    fn parameters_of(
        doc: &'a Value,
        operation: &Operation<'a>,
    ) -> Result<BTreeMap<(String, String), Parameter<'a>>, CompatError> {
        let mut found = BTreeMap::new();
        // The operation's own come last: they override the path item's.
        for list in [
            operation.item.child("parameters"),
            operation.at.child("parameters"),
        ]
        .into_iter()
        .flatten()
        {
            for site in list.items() {
                let at = resolve(doc, site.clone())?;
                let location = at.value["in"].as_str().unwrap_or_default().to_owned();
                let mut name = at.value["name"].as_str().unwrap_or_default().to_owned();
                if location == "header" {
                    name = name.to_lowercase();
                }
                let parameter = Parameter {
                    site: site.pointer,
                    at,
                    location: location.clone(),
                    name: name.clone(),
                };
                found.insert((location, name), parameter);
            }
        }
        Ok(found)
    }

    fn parameters(
        &mut self,
        old: &Operation<'a>,
        new: &Operation<'a>,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let mut olds = Self::parameters_of(self.old, old)?;
        let news = Self::parameters_of(self.new, new)?;
        for (key, new) in &news {
            let Some(old) = olds.remove(key) else {
                let required = new.at.flag("required");
                self.record(
                    Change::ParameterAdded { required },
                    None,
                    Location::Current(new.site.clone()),
                    new.describe(),
                    Some(usage),
                );
                continue;
            };
            let usage = usage.place(new.describe());
            self.requirement(
                (&old.at, &new.at),
                &new.describe(),
                |now_required| Change::ParameterRequirement { now_required },
                &usage,
            );
            for keyword in SERIALIZATION {
                let (o, n) = (old.serialization(keyword), new.serialization(keyword));
                if o != n {
                    self.record(
                        Change::ParameterSerialization,
                        None,
                        Location::Current(format!("{}/{keyword}", new.at.pointer)),
                        format!("{keyword}: {o} → {n}"),
                        Some(&usage),
                    );
                }
            }
            let mut handled = vec!["name", "in", "required"];
            handled.extend(SERIALIZATION);
            self.subschema_and_rest(&old.at, &new.at, &handled, Side::Request, &usage)?;
        }
        for old in olds.values() {
            self.record(
                Change::ParameterRemoved,
                None,
                Location::Released(old.site.clone()),
                old.describe(),
                Some(usage),
            );
        }
        Ok(())
    }

    /// Compares the `schema` of two parameters, headers or media types, and
    /// their other keys. A parameter (it says where it goes, `in`) has its
    /// schema compared as a parameter's.
    fn subschema_and_rest(
        &mut self,
        old: &At<'a>,
        new: &At<'a>,
        handled: &[&str],
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let mut handled = handled.to_vec();
        if let (Some(o), Some(n)) = (old.child("schema"), new.child("schema")) {
            if new.child("in").is_some() {
                self.parameter_schema(o, n, usage)?;
            } else {
                self.schema(o, n, side, usage)?;
            }
            handled.push("schema");
        }
        self.other_keys(
            &old.keyed(),
            &new.keyed(),
            &new.pointer,
            &handled,
            Change::Unclassified,
            Some(side),
            usage,
        );
        Ok(())
    }

    fn request_body(
        &mut self,
        old: &Operation<'a>,
        new: &Operation<'a>,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let usage = usage.place("request body".to_owned());
        match (old.at.child("requestBody"), new.at.child("requestBody")) {
            (None, None) => {}
            (Some(old), None) => self.record(
                Change::RequestBodyRemoved,
                None,
                Location::Released(old.pointer),
                "request body removed".to_owned(),
                Some(&usage),
            ),
            (None, Some(new)) => {
                let required = resolve(self.new, new.clone())?.flag("required");
                self.record(
                    Change::RequestBodyAdded { required },
                    None,
                    Location::Current(new.pointer),
                    "request body added".to_owned(),
                    Some(&usage),
                );
            }
            (Some(old), Some(new)) => {
                let old = resolve(self.old, old)?;
                let new = resolve(self.new, new)?;
                self.requirement(
                    (&old, &new),
                    "request body",
                    |now_required| Change::RequestBodyRequirement { now_required },
                    &usage,
                );
                self.other_keys(
                    &old.keyed(),
                    &new.keyed(),
                    &new.pointer,
                    &["required", "content"],
                    Change::Unclassified,
                    Some(Side::Request),
                    &usage,
                );
                self.content(&old, &new, Side::Request, &usage)?;
            }
        }
        Ok(())
    }

    /// Compares the media types of a request body or a response.
    fn content(
        &mut self,
        old: &At<'a>,
        new: &At<'a>,
        side: Side,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let pairs = side_by_side(
            old.child("content"),
            new.child("content"),
            str::to_lowercase,
        );
        for (media_type, pair) in pairs {
            match pair {
                (Some(old), None) => self.record(
                    Change::ContentTypeRemoved,
                    Some(side),
                    Location::Released(old.pointer),
                    media_type,
                    Some(usage),
                ),
                (None, Some(new)) => self.record(
                    Change::ContentTypeAdded,
                    Some(side),
                    Location::Current(new.pointer),
                    media_type,
                    Some(usage),
                ),
                (Some(old), Some(new)) => {
                    self.subschema_and_rest(&old, &new, &[], side, usage)?;
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    fn responses(
        &mut self,
        old: &Operation<'a>,
        new: &Operation<'a>,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let pairs = side_by_side(
            old.at.child("responses"),
            new.at.child("responses"),
            str::to_owned,
        );
        for (status, pair) in pairs {
            let usage = usage.place(format!("response {status}"));
            match pair {
                (Some(old), None) => self.record(
                    Change::StatusRemoved,
                    None,
                    Location::Released(old.pointer),
                    format!("status {status}"),
                    Some(&usage),
                ),
                (None, Some(new)) => self.record(
                    Change::StatusAdded {
                        success: status.starts_with('2'),
                    },
                    None,
                    Location::Current(new.pointer),
                    format!("status {status}"),
                    Some(&usage),
                ),
                (Some(old), Some(new)) => {
                    let old = resolve(self.old, old)?;
                    let new = resolve(self.new, new)?;
                    self.other_keys(
                        &old.keyed(),
                        &new.keyed(),
                        &new.pointer,
                        &["headers", "content"],
                        Change::Unclassified,
                        Some(Side::Response),
                        &usage,
                    );
                    self.headers(&old, &new, &usage)?;
                    self.content(&old, &new, Side::Response, &usage)?;
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    fn headers(&mut self, old: &At<'a>, new: &At<'a>, usage: &Usage) -> Result<(), CompatError> {
        let pairs = side_by_side(
            old.child("headers"),
            new.child("headers"),
            str::to_lowercase,
        );
        for (name, pair) in pairs {
            match pair {
                (Some(old), None) => self.record(
                    Change::ResponseHeaderRemoved,
                    None,
                    Location::Released(old.pointer),
                    format!("header {name}"),
                    Some(usage),
                ),
                (None, Some(new)) => self.record(
                    Change::ResponseHeaderAdded,
                    None,
                    Location::Current(new.pointer),
                    format!("header {name}"),
                    Some(usage),
                ),
                (Some(old), Some(new)) => {
                    let old = resolve(self.old, old)?;
                    let new = resolve(self.new, new)?;
                    let usage = usage.place(format!("{} header {name}", usage.place));
                    self.requirement(
                        (&old, &new),
                        &format!("header {name}"),
                        |now_required| Change::ResponseHeaderRequirement { now_required },
                        &usage,
                    );
                    self.subschema_and_rest(&old, &new, &["required"], Side::Response, &usage)?;
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// Compares who may call the operation: every way of authenticating that
    /// worked must still work, with the same schemes and no more scopes.
    fn security(
        &mut self,
        old: &Operation<'a>,
        new: &Operation<'a>,
        usage: &Usage,
    ) -> Result<(), CompatError> {
        let (_, old_requirements) = effective_security(self.old, old);
        let (pointer, new_requirements) = effective_security(self.new, new);
        let added: Vec<&Requirement> = new_requirements.difference(&old_requirements).collect();
        // The added requirements that stand in for a removed one.
        let mut replacing = BTreeSet::new();
        for removed in old_requirements.difference(&new_requirements) {
            let (change, detail) = match added.iter().find(|added| needs_less(added, removed)) {
                Some(&fewer) => {
                    replacing.insert(fewer);
                    (
                        Change::SecurityScopesReduced,
                        format!(
                            "{} → {}",
                            describe_requirement(removed),
                            describe_requirement(fewer)
                        ),
                    )
                }
                None => (
                    Change::SecurityRequirementRemoved,
                    describe_requirement(removed),
                ),
            };
            let location = Location::Current(pointer.clone());
            self.record(change, None, location, detail, Some(usage));
        }
        for requirement in added.into_iter().filter(|r| !replacing.contains(r)) {
            self.record(
                Change::SecurityRequirementAdded,
                None,
                Location::Current(pointer.clone()),
                describe_requirement(requirement),
                Some(usage),
            );
        }
        let schemes = |requirements: &BTreeSet<Requirement>| -> BTreeSet<String> {
            requirements
                .iter()
                .flat_map(|r| r.keys().cloned())
                .collect()
        };
        for scheme in schemes(&old_requirements).intersection(&schemes(&new_requirements)) {
            let pointer = format!("/components/securitySchemes/{}", escape(scheme));
            let at = |doc: &'a Value| {
                At::root(doc)
                    .child("components")
                    .and_then(|c| c.child("securitySchemes"))
                    .and_then(|s| s.child(scheme))
            };
            let (Some(old), Some(new)) = (at(self.old), at(self.new)) else {
                continue;
            };
            let (old, new) = (resolve(self.old, old)?, resolve(self.new, new)?);
            self.other_keys(
                &old.keyed(),
                &new.keyed(),
                &pointer,
                &[],
                Change::SecuritySchemeChanged,
                None,
                usage,
            );
        }
        Ok(())
    }
}

/// The security requirements of an operation (its own, or the document's),
/// and where they are written.
fn effective_security(doc: &Value, operation: &Operation<'_>) -> (String, BTreeSet<Requirement>) {
    let (pointer, list) = match operation.at.child("security") {
        Some(own) => (own.pointer, own.value),
        None => (
            "/security".to_owned(),
            doc.get("security").unwrap_or(&Value::Null),
        ),
    };
    let mut requirements: BTreeSet<Requirement> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|requirement| {
            requirement
                .iter()
                .map(|(scheme, scopes)| {
                    let scopes = scopes
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    (scheme.clone(), scopes)
                })
                .collect()
        })
        .collect();
    // No requirement at all lets anyone call.
    if requirements.is_empty() {
        requirements.insert(Requirement::new());
    }
    (pointer, requirements)
}

/// Whether a client that meets `released` meets `new`: the same schemes,
/// each with no scope that `released` did not ask for.
fn needs_less(new: &Requirement, released: &Requirement) -> bool {
    new.len() == released.len()
        && new.iter().all(|(scheme, scopes)| {
            released
                .get(scheme)
                .is_some_and(|granted| scopes.is_subset(granted))
        })
}

fn describe_requirement(requirement: &Requirement) -> String {
    if requirement.is_empty() {
        return "no authentication".to_owned();
    }
    requirement
        .iter()
        .map(|(scheme, scopes)| {
            if scopes.is_empty() {
                scheme.clone()
            } else {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                format!("{scheme} (scopes {})", scopes.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The entries of two objects side by side, by key; `fold` makes keys that
/// mean the same equal (header names and media types ignore case).
fn side_by_side<'a>(
    old: Option<At<'a>>,
    new: Option<At<'a>>,
    fold: fn(&str) -> String,
) -> BTreeMap<String, (Option<At<'a>>, Option<At<'a>>)> {
    let mut pairs: BTreeMap<String, (Option<At<'a>>, Option<At<'a>>)> = BTreeMap::new();
    for (key, at) in old.map(|o| o.keyed()).unwrap_or_default() {
        pairs.entry(fold(key)).or_default().0 = Some(at);
    }
    for (key, at) in new.map(|n| n.keyed()).unwrap_or_default() {
        pairs.entry(fold(key)).or_default().1 = Some(at);
    }
    pairs
}

/// A value for the report, cut short.
fn brief(value: Option<&Value>) -> String {
    const LIMIT: usize = 80;
    let text = show(value);
    if text.chars().count() > LIMIT {
        format!("{}…", text.chars().take(LIMIT).collect::<String>())
    } else {
        text
    }
}
