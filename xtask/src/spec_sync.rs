//! Spec ⇄ server: a semantic comparison of the hand-written `openapi.yaml`
//! with the document dropshot builds from the API trait.
//!
//! Both documents are normalised so that only meaning is compared (key order,
//! line breaks in descriptions, `$ref`s to reusable parameters, responses and
//! headers, path-level parameters, default values spelled out or left out).
//! The spec may then add only what dropshot cannot express, and each such
//! addition is verified and listed as an allowance:
//!
//! - security schemes and requirements;
//! - one response per documented error status, each with the `Error` schema
//!   that dropshot uses (dropshot itself documents only `4XX` and `5XX`), or
//!   with no body for the statuses in [`BODYLESS_ERROR_STATUSES`];
//! - the success statuses in [`EXTRA_SUCCESS_STATUSES`], each identical to
//!   the success response dropshot documents;
//! - the parameter defaults in [`PARAMETER_DEFAULTS`] (dropshot drops the
//!   metadata of parameter schemas), each equal to the server's own value;
//! - `additionalProperties: true` on the `Error` schema (later versions may
//!   add fields to errors, as to every response object);
//! - links between operations, examples, servers and tag descriptions.
//!
//! Everything else must be equal: operations, parameters, request bodies,
//! success responses and every schema, down to descriptions.

use std::fmt;

use serde_json::{Map, Value};

use crate::spec_file::{OPERATION_METHODS, escape};

/// Where dropshot's error schema lives; every error response refers to it.
const ERROR_SCHEMA_REF: &str = "#/components/schemas/Error";

/// Where dropshot's shared error response lives.
const ERROR_RESPONSE_REF: &str = "#/components/responses/Error";

/// Component sections that exist only to be referenced; the comparison
/// inlines their references. `schemas` stays: both documents name schemas.
const INLINED_COMPONENTS: [&str; 6] = [
    "parameters",
    "responses",
    "headers",
    "examples",
    "requestBodies",
    "links",
];

/// A success status that dropshot cannot document (it documents one per
/// operation) and that the spec adds with the same content as another.
pub struct ExtraSuccessStatus {
    pub operation_id: &'static str,
    pub status: &'static str,
    pub same_content_as: &'static str,
    pub why: &'static str,
}

/// The success statuses only the spec may document.
pub const EXTRA_SUCCESS_STATUSES: &[ExtraSuccessStatus] = &[ExtraSuccessStatus {
    operation_id: "put_task_agent_run",
    status: "201",
    same_content_as: "200",
    why: "PUT answers 201 when it creates the run and 200 when it replaces it",
}];

/// An error status that the HTTP server answers itself, before any handler
/// runs, with an empty body: dropshot cannot document it, and the spec
/// documents it without `content`.
pub struct BodylessErrorStatus {
    /// The status code.
    pub status: &'static str,
    /// Who sends it, and when.
    pub why: &'static str,
}

/// The error statuses the spec may document without a body.
pub const BODYLESS_ERROR_STATUSES: &[BodylessErrorStatus] = &[BodylessErrorStatus {
    status: "431",
    why: "hyper refuses request headers over its limits before dropshot sees the request",
}];

/// A query parameter's default that the server applies and that dropshot
/// cannot document.
pub struct ParameterDefault {
    pub operation_id: &'static str,
    pub parameter: &'static str,
    pub value: fn() -> Value,
}

/// The parameter defaults only the spec may document, with the server's values.
pub const PARAMETER_DEFAULTS: &[ParameterDefault] = &[ParameterDefault {
    operation_id: "list_task_agent_runs",
    parameter: "page_limit",
    value: || Value::from(task_agent_api::MAX_PAGE_LIMIT),
}];

/// One place where the two documents disagree.
#[derive(Debug, PartialEq)]
pub struct Difference {
    /// JSON pointer into the normalised documents.
    pub pointer: String,
    /// The spec's value there, if any.
    pub spec: Option<Value>,
    /// The server's value there, if any.
    pub server: Option<Value>,
    /// Why this is a difference, when the values alone do not say.
    pub note: Option<String>,
}

/// Outcome of the comparison.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// What the spec adds that dropshot cannot express, verified.
    pub allowances: Vec<String>,
    /// What disagrees.
    pub differences: Vec<Difference>,
}

impl SyncReport {
    /// Whether the spec and the server agree.
    pub fn is_in_sync(&self) -> bool {
        self.differences.is_empty()
    }

    fn allow(&mut self, what: String) {
        self.allowances.push(what);
    }

    fn reject(&mut self, pointer: String, spec: Option<Value>, note: &str) {
        self.differences.push(Difference {
            pointer,
            spec,
            server: None,
            note: Some(note.to_owned()),
        });
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_in_sync() {
            writeln!(
                f,
                "spec ⇄ server: in sync ({} allowances for what only the spec can say)",
                self.allowances.len()
            )?;
            for allowance in &self.allowances {
                writeln!(f, "    allowed: {allowance}")?;
            }
            return Ok(());
        }
        writeln!(
            f,
            "spec ⇄ server: {} differences between openapi.yaml and the API trait",
            self.differences.len()
        )?;
        for difference in &self.differences {
            writeln!(f, "  at {}", display_pointer(&difference.pointer))?;
            writeln!(f, "      spec:   {}", show(&difference.spec))?;
            writeln!(f, "      server: {}", show(&difference.server))?;
            if let Some(note) = &difference.note {
                writeln!(f, "      ({note})")?;
            }
        }
        writeln!(
            f,
            "Change the trait or openapi.yaml so that they agree (then `cargo xtask generate`)."
        )
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

fn show(value: &Option<Value>) -> String {
    const LIMIT: usize = 240;
    match value {
        None => "(absent)".to_owned(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > LIMIT {
                format!("{}…", text.chars().take(LIMIT).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// Compares the spec with dropshot's document of the server.
pub fn compare(spec: &Value, server: &Value) -> SyncReport {
    let mut report = SyncReport::default();
    let spec = normalise(take_spec_allowances(spec.clone(), &mut report));
    let server = normalise(take_dropshot_error_responses(server.clone(), &mut report));
    diff(
        &mut String::new(),
        Some(&spec),
        Some(&server),
        &mut report.differences,
    );
    report
}

/// Removes and verifies what only the spec may add.
fn take_spec_allowances(mut doc: Value, report: &mut SyncReport) -> Value {
    let components = doc.get("components").cloned().unwrap_or(Value::Null);
    inline_component_refs(&mut doc, &components);
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for section in INLINED_COMPONENTS {
            components.remove(section);
        }
        if let Some(Value::Object(schemes)) = components.remove("securitySchemes") {
            for name in schemes.keys() {
                report.allow(format!("security scheme `{name}`"));
            }
        }
    }
    let root = doc
        .as_object_mut()
        .expect("an OpenAPI document is an object");
    if let Some(security) = root.remove("security") {
        report.allow(format!("security requirement {security}"));
    }
    if let Some(Value::Array(servers)) = root.remove("servers") {
        report.allow(format!("{} servers", servers.len()));
    }
    // Tag names are compared; what the spec says about a tag is its own.
    if let Some(Value::Array(tags)) = root.get_mut("tags") {
        for tag in tags.iter_mut().filter_map(Value::as_object_mut) {
            if tag.remove("description").is_some() | tag.remove("externalDocs").is_some() {
                report.allow(format!(
                    "description of tag {}",
                    tag.get("name").unwrap_or(&Value::Null)
                ));
            }
        }
    }
    for_each_operation(&mut doc, |pointer, operation| {
        if let Some(security) = operation.remove("security") {
            report.allow(format!(
                "security requirement {security} of {}",
                operation_name(operation)
            ));
        }
        take_error_responses(pointer, operation, report);
        take_extra_success_statuses(pointer, operation, report);
        take_parameter_defaults(pointer, operation, report);
        take_links(operation, report);
    });
    take_open_error_schema(&mut doc, report);
    take_error_code_description(&mut doc, report);
    strip_examples(&mut doc, report);
    doc
}

/// Removes `additionalProperties: true` from the `Error` schema: like every
/// response object of the spec, errors may gain fields in later versions,
/// which dropshot's own schema of them cannot say.
fn take_open_error_schema(doc: &mut Value, report: &mut SyncReport) {
    if let Some(Value::Object(error)) = doc.pointer_mut(&ERROR_SCHEMA_REF[1..])
        && error.get("additionalProperties") == Some(&Value::Bool(true))
    {
        error.remove("additionalProperties");
        report.allow("`additionalProperties: true` of the `Error` schema".to_owned());
    }
}

/// Removes the description of the `Error` schema's `error_code`, which
/// dropshot's own schema of errors cannot carry, after checking that it is
/// the list of the API crate's error codes, word for word: a code added to
/// the server but not to the spec (or the other way) is a difference.
fn take_error_code_description(doc: &mut Value, report: &mut SyncReport) {
    let pointer = format!(
        "{}/properties/error_code/description",
        &ERROR_SCHEMA_REF[1..]
    );
    let Some(Value::Object(error_code)) =
        doc.pointer_mut(&pointer[..pointer.len() - "/description".len()])
    else {
        return;
    };
    let Some(description) = error_code.remove("description") else {
        return;
    };
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let expected = task_agent_api::error_codes::error_code_description();
    if description.as_str().map(words) == Some(words(&expected)) {
        report.allow("the list of error codes in `Error.error_code`".to_owned());
    } else {
        report.reject(
            pointer.clone(),
            Some(description),
            &format!("must list the API's error codes (task_agent_api::error_codes): {expected}"),
        );
    }
}

/// Replaces every `$ref` to a reusable parameter, response, header, example
/// or request body by what it refers to.
fn inline_component_refs(value: &mut Value, components: &Value) {
    match value {
        Value::Object(object) => {
            if let Some(target) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| resolve(r, components))
            {
                *value = target;
                inline_component_refs(value, components);
                return;
            }
            object
                .values_mut()
                .for_each(|child| inline_component_refs(child, components));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| inline_component_refs(child, components)),
        _ => {}
    }
}

fn resolve(reference: &str, components: &Value) -> Option<Value> {
    let (section, name) = reference.strip_prefix("#/components/")?.split_once('/')?;
    if !INLINED_COMPONENTS.contains(&section) {
        return None;
    }
    components.get(section)?.get(name).cloned()
}

/// Calls `visit` with the JSON pointer and the object of every operation,
/// after moving path-level parameters into the operations.
fn for_each_operation(doc: &mut Value, mut visit: impl FnMut(&str, &mut Map<String, Value>)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let shared = match item.remove("parameters") {
            Some(Value::Array(shared)) => shared,
            _ => Vec::new(),
        };
        for method in OPERATION_METHODS {
            let Some(Value::Object(operation)) = item.get_mut(method) else {
                continue;
            };
            if !shared.is_empty() {
                let own = match operation.remove("parameters") {
                    Some(Value::Array(own)) => own,
                    _ => Vec::new(),
                };
                let overridden = |p: &Value| {
                    own.iter()
                        .any(|o| o["in"] == p["in"] && o["name"] == p["name"])
                };
                let mut merged: Vec<Value> =
                    shared.iter().filter(|p| !overridden(p)).cloned().collect();
                merged.extend(own);
                operation.insert("parameters".to_owned(), Value::Array(merged));
            }
            visit(&format!("/paths/{}/{method}", escape(path)), operation);
        }
    }
}

fn operation_name(operation: &Map<String, Value>) -> String {
    operation
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or("an operation without operationId")
        .to_owned()
}

fn is_error_status(status: &str) -> bool {
    status.len() == 3
        && (status.starts_with('4') || status.starts_with('5'))
        && status.bytes().all(|b| b.is_ascii_digit())
}

/// Removes the spec's error responses after checking that each carries the
/// `Error` schema (and nothing else) as `application/json`, or, for a status
/// in [`BODYLESS_ERROR_STATUSES`], no content at all.
fn take_error_responses(
    pointer: &str,
    operation: &mut Map<String, Value>,
    report: &mut SyncReport,
) {
    let name = operation_name(operation);
    let Some(Value::Object(responses)) = operation.get_mut("responses") else {
        return;
    };
    let statuses: Vec<String> = responses
        .keys()
        .filter(|s| is_error_status(s))
        .cloned()
        .collect();
    for status in &statuses {
        let response = responses.remove(status).expect("listed above");
        if let Some(bodyless) = BODYLESS_ERROR_STATUSES.iter().find(|b| b.status == status) {
            if response.get("content").is_none() {
                report.allow(format!(
                    "error response {status} of {name} without a body ({})",
                    bodyless.why
                ));
            } else {
                report.reject(
                    format!("{pointer}/responses/{status}"),
                    Some(response),
                    "the HTTP server sends this error before any handler, with an empty body: it must have no `content`",
                );
            }
            continue;
        }
        let mut content = response.get("content").cloned().unwrap_or(Value::Null);
        strip_examples(&mut content, &mut SyncReport::default());
        if content == error_content() {
            report.allow(format!("error response {status} of {name}"));
        } else {
            report.reject(
                format!("{pointer}/responses/{status}"),
                Some(response),
                "an error response must be `application/json` with the schema `#/components/schemas/Error` \
                 (only the statuses in BODYLESS_ERROR_STATUSES may have no body)",
            );
        }
    }
}

fn error_content() -> Value {
    serde_json::json!({ "application/json": { "schema": { "$ref": ERROR_SCHEMA_REF } } })
}

/// Removes the success statuses listed in [`EXTRA_SUCCESS_STATUSES`] after
/// checking that each is identical to the one it mirrors.
fn take_extra_success_statuses(
    pointer: &str,
    operation: &mut Map<String, Value>,
    report: &mut SyncReport,
) {
    let name = operation_name(operation);
    let Some(Value::Object(responses)) = operation.get_mut("responses") else {
        return;
    };
    for extra in EXTRA_SUCCESS_STATUSES
        .iter()
        .filter(|extra| extra.operation_id == name)
    {
        let Some(mut response) = responses.remove(extra.status) else {
            report.reject(
                format!("{pointer}/responses/{}", extra.status),
                None,
                &format!(
                    "the allowance for {name} {} expects this response",
                    extra.status
                ),
            );
            continue;
        };
        let mut mirrored = responses
            .get(extra.same_content_as)
            .cloned()
            .unwrap_or(Value::Null);
        for value in [&mut response, &mut mirrored] {
            if let Some(object) = value.as_object_mut() {
                object.remove("description");
            }
        }
        if response == mirrored {
            report.allow(format!(
                "success response {} of {name} ({})",
                extra.status, extra.why
            ));
        } else {
            report.reject(
                format!("{pointer}/responses/{}", extra.status),
                Some(response),
                &format!(
                    "must have the same headers and content as response {}",
                    extra.same_content_as
                ),
            );
        }
    }
}

/// Removes the defaults of parameter schemas after checking each against
/// [`PARAMETER_DEFAULTS`].
fn take_parameter_defaults(
    pointer: &str,
    operation: &mut Map<String, Value>,
    report: &mut SyncReport,
) {
    let name = operation_name(operation);
    let Some(Value::Array(parameters)) = operation.get_mut("parameters") else {
        return;
    };
    for (index, parameter) in parameters.iter_mut().enumerate() {
        let parameter_name = parameter["name"].as_str().unwrap_or_default().to_owned();
        let Some(default) = parameter
            .get_mut("schema")
            .and_then(Value::as_object_mut)
            .and_then(|s| s.remove("default"))
        else {
            continue;
        };
        let allowed = PARAMETER_DEFAULTS
            .iter()
            .find(|allowed| allowed.operation_id == name && allowed.parameter == parameter_name)
            .map(|allowed| (allowed.value)());
        if allowed.as_ref() == Some(&default) {
            report.allow(format!(
                "default {default} of parameter {parameter_name} of {name}"
            ));
        } else {
            report.differences.push(Difference {
                pointer: format!("{pointer}/parameters/{index}/schema/default"),
                spec: Some(default),
                server: allowed,
                note: Some("a parameter default must be listed in PARAMETER_DEFAULTS with the server's value".to_owned()),
            });
        }
    }
}

/// Removes the links of responses (dropshot cannot state them), after
/// checking that each names an operation of the spec.
fn take_links(operation: &mut Map<String, Value>, report: &mut SyncReport) {
    let name = operation_name(operation);
    let Some(Value::Object(responses)) = operation.get_mut("responses") else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if let Some(Value::Object(links)) = response.as_object_mut().and_then(|r| r.remove("links"))
        {
            for (link, target) in links {
                let to = target
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                report.allow(format!("link {link} from {name} {status} to {to}"));
            }
        }
    }
}

/// Removes dropshot's `4XX`/`5XX` responses (the spec lists each status
/// instead) after checking that they are dropshot's shared `Error` response.
fn take_dropshot_error_responses(mut doc: Value, report: &mut SyncReport) -> Value {
    let shared = doc.pointer("/components/responses/Error/content").cloned();
    if shared.as_ref() != Some(&error_content()) {
        report.reject(
            "/components/responses/Error".to_owned(),
            None,
            "dropshot's document lacks its shared `Error` response: a dropshot change this check must learn",
        );
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("responses");
    }
    for_each_operation(&mut doc, |pointer, operation| {
        let Some(Value::Object(responses)) = operation.get_mut("responses") else {
            return;
        };
        for range in ["4XX", "5XX"] {
            let expected = serde_json::json!({ "$ref": ERROR_RESPONSE_REF });
            if responses.remove(range) != Some(expected) {
                report.reject(
                    format!("{pointer}/responses/{range}"),
                    None,
                    "dropshot documents errors as a `4XX` and a `5XX` reference to its `Error` response",
                );
            }
        }
    });
    doc
}

/// Removes `example` and `examples` everywhere except where they name a
/// property.
fn strip_examples(value: &mut Value, report: &mut SyncReport) {
    let mut count = 0;
    strip_examples_counting(value, &mut count);
    if count > 0 {
        report.allow(format!("{count} examples"));
    }
}

fn strip_examples_counting(value: &mut Value, count: &mut usize) {
    match value {
        Value::Object(object) => {
            for keyword in ["example", "examples"] {
                if object.remove(keyword).is_some() {
                    *count += 1;
                }
            }
            for (key, child) in object.iter_mut() {
                if key == "properties" || key == "schemas" {
                    // Keys here are names, not keywords.
                    if let Value::Object(named) = child {
                        named
                            .values_mut()
                            .for_each(|v| strip_examples_counting(v, count));
                    }
                } else {
                    strip_examples_counting(child, count);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| strip_examples_counting(v, count)),
        _ => {}
    }
}

/// Puts a document into the form in which equal meaning is equal JSON.
fn normalise(mut doc: Value) -> Value {
    for_each_operation(&mut doc, |_, operation| {
        if let Some(Value::Array(parameters)) = operation.remove("parameters") {
            let keyed = parameters
                .into_iter()
                .map(|parameter| {
                    let key = format!(
                        "{}:{}",
                        parameter["in"].as_str().unwrap_or("?"),
                        parameter["name"].as_str().unwrap_or("?")
                    );
                    (key, parameter)
                })
                .collect();
            operation.insert("parameters".to_owned(), Value::Object(keyed));
        }
    });
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            if let Some(object) = schema.as_object_mut()
                && object.get("title").and_then(Value::as_str) == Some(name)
            {
                object.remove("title");
            }
        }
    }
    drop_defaults_and_fold_text(&mut doc);
    doc
}

/// Drops keywords that only restate their default, sorts `required` (a set),
/// and folds the white space of descriptions and summaries (prose that YAML
/// and doc comments wrap differently).
fn drop_defaults_and_fold_text(value: &mut Value) {
    const DEFAULT_FALSE: [&str; 10] = [
        "nullable",
        "readOnly",
        "writeOnly",
        "deprecated",
        "uniqueItems",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "allowEmptyValue",
        "allowReserved",
        "required",
    ];
    match value {
        Value::Object(object) => {
            for keyword in DEFAULT_FALSE {
                if object.get(keyword) == Some(&Value::Bool(false)) {
                    object.remove(keyword);
                }
            }
            if object.get("style").and_then(Value::as_str) == Some("simple")
                && object
                    .get("in")
                    .is_none_or(|location| location == "path" || location == "header")
            {
                object.remove("style");
            }
            if object.get("in").and_then(Value::as_str) == Some("query")
                && object.get("style").and_then(Value::as_str) == Some("form")
            {
                object.remove("style");
            }
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.sort_by_key(|name| name.to_string());
            }
            for key in ["description", "summary"] {
                if let Some(Value::String(text)) = object.get_mut(key) {
                    *text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                }
            }
            object.values_mut().for_each(drop_defaults_and_fold_text);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_defaults_and_fold_text),
        _ => {}
    }
}

/// Records every place where `spec` and `server` differ.
fn diff(
    pointer: &mut String,
    spec: Option<&Value>,
    server: Option<&Value>,
    out: &mut Vec<Difference>,
) {
    match (spec, server) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                diff(pointer, a.get(key), b.get(key), out);
                pointer.truncate(length);
            }
        }
        (Some(a), Some(b)) if a == b => {}
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                let length = pointer.len();
                pointer.push_str(&format!("/{index}"));
                diff(pointer, Some(x), Some(y), out);
                pointer.truncate(length);
            }
        }
        (None, None) => {}
        (a, b) => out.push(Difference {
            pointer: pointer.clone(),
            spec: a.cloned(),
            server: b.cloned(),
            note: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec_file::SpecFile;

    const RUN_PATH: &str = "/paths/~1api~1v1~1org~1{org_id}~1project~1{project_id}~1task-agent~1{task_agent_id}~1run~1{run_id}";

    fn real_pair() -> (Value, Value) {
        (
            SpecFile::load().expect("openapi.yaml loads").json,
            task_agent_api::openapi_document(),
        )
    }

    fn pointers(report: &SyncReport) -> Vec<&str> {
        report
            .differences
            .iter()
            .map(|d| d.pointer.as_str())
            .collect()
    }

    /// The checked-in spec and the API trait agree: `cargo test` catches drift.
    #[test]
    fn openapi_yaml_matches_the_api_trait() {
        let (spec, server) = real_pair();
        let report = compare(&spec, &server);
        assert!(report.is_in_sync(), "{report}");
        for expected in [
            "security scheme `bearerAuth`",
            "error response 412 of put_task_agent_run",
            "error response 408 of put_task_agent_run",
            "error response 431 of get_task_agent_run without a body",
            "error response 431 of put_task_agent_run without a body",
            "error response 431 of list_task_agent_runs without a body",
            "success response 201 of put_task_agent_run",
            "description of tag \"task-agent-runs\"",
            "2 servers",
            "default 100 of parameter page_limit of list_task_agent_runs",
            "link GetRun from put_task_agent_run 200 to get_task_agent_run",
            "the list of error codes in `Error.error_code`",
        ] {
            assert!(
                report.allowances.iter().any(|a| a.starts_with(expected)),
                "missing allowance {expected:?} in {:#?}",
                report.allowances
            );
        }
    }

    #[test]
    fn a_field_added_to_a_server_type_is_reported() {
        let (spec, mut server) = real_pair();
        server["components"]["schemas"]["TaskAgentRun"]["properties"]["retries"] =
            json!({ "type": "integer", "format": "int64" });
        let report = compare(&spec, &server);
        assert_eq!(
            pointers(&report),
            ["/components/schemas/TaskAgentRun/properties/retries"]
        );
        assert_eq!(report.differences[0].spec, None);
    }

    #[test]
    fn a_changed_field_type_is_reported_with_both_values() {
        let (spec, mut server) = real_pair();
        server["components"]["schemas"]["RunFile"]["properties"]["size_bytes"]["format"] =
            json!("int32");
        let report = compare(&spec, &server);
        assert_eq!(report.differences.len(), 1, "{report}");
        let difference = &report.differences[0];
        assert_eq!(
            difference.pointer,
            "/components/schemas/RunFile/properties/size_bytes/format"
        );
        assert_eq!(difference.spec, Some(json!("int64")));
        assert_eq!(difference.server, Some(json!("int32")));
        assert!(report.to_string().contains("size_bytes/format"));
    }

    #[test]
    fn a_field_removed_from_the_spec_is_reported() {
        let (mut spec, server) = real_pair();
        let properties = spec["components"]["schemas"]["TaskAgentRun"]["properties"]
            .as_object_mut()
            .unwrap();
        properties.remove("duration_ms");
        let report = compare(&spec, &server);
        assert_eq!(
            pointers(&report),
            ["/components/schemas/TaskAgentRun/properties/duration_ms"]
        );
        assert_eq!(report.differences[0].spec, None);
    }

    #[test]
    fn nullability_bounds_and_required_sets_are_compared() {
        let (mut spec, server) = real_pair();
        spec["components"]["schemas"]["TaskAgentRun"]["properties"]["user_id"]
            .as_object_mut()
            .unwrap()
            .remove("nullable");
        spec["components"]["schemas"]["Pagination"]["properties"]["page_limit"]["maximum"] =
            json!(500);
        let required = spec["components"]["schemas"]["TaskAgentRunWrite"]["required"]
            .as_array_mut()
            .unwrap();
        required.push(json!("is_error"));
        let report = compare(&spec, &server);
        assert_eq!(
            pointers(&report),
            [
                "/components/schemas/Pagination/properties/page_limit/maximum",
                "/components/schemas/TaskAgentRun/properties/user_id/nullable",
                "/components/schemas/TaskAgentRunWrite/required",
            ],
            "{report}"
        );
    }

    #[test]
    fn operations_and_parameters_are_compared() {
        let (mut spec, server) = real_pair();
        let list = "/paths/~1api~1v1~1org~1{org_id}~1project~1{project_id}~1task-agent~1{task_agent_id}~1run/get";
        spec.pointer_mut(&format!("{RUN_PATH}/get")).unwrap()["operationId"] = json!("get_run");
        let parameters = spec
            .pointer_mut(&format!("{list}/parameters"))
            .unwrap()
            .as_array_mut()
            .unwrap();
        parameters.retain(|p| p["name"] != "status");
        let report = compare(&spec, &server);
        assert_eq!(
            pointers(&report),
            [
                format!("{list}/parameters/query:status"),
                format!("{RUN_PATH}/get/operationId"),
            ],
            "{report}"
        );
    }

    #[test]
    fn an_error_response_without_the_error_schema_is_rejected() {
        let (mut spec, server) = real_pair();
        spec.pointer_mut(&format!("{RUN_PATH}/get/responses"))
            .unwrap()["418"] = json!({ "description": "teapot", "content": { "application/json": { "schema": { "type": "string" } } } });
        let report = compare(&spec, &server);
        assert_eq!(pointers(&report), [format!("{RUN_PATH}/get/responses/418")]);
        assert!(
            report.differences[0]
                .note
                .as_deref()
                .unwrap()
                .contains("Error")
        );
    }

    #[test]
    fn a_431_without_a_body_is_allowed_and_listed() {
        let (mut spec, server) = real_pair();
        spec.pointer_mut(&format!("{RUN_PATH}/get/responses"))
            .unwrap()["431"] = json!({ "description": "headers too large" });
        let report = compare(&spec, &server);
        assert!(report.is_in_sync(), "{report}");
        assert!(
            report
                .allowances
                .iter()
                .any(|a| a.starts_with("error response 431 of get_task_agent_run without a body")),
            "{:#?}",
            report.allowances
        );
    }

    #[test]
    fn an_error_response_without_a_body_is_rejected_for_other_statuses() {
        let (mut spec, server) = real_pair();
        spec.pointer_mut(&format!("{RUN_PATH}/get/responses"))
            .unwrap()["404"] = json!({ "description": "not found" });
        let report = compare(&spec, &server);
        assert_eq!(pointers(&report), [format!("{RUN_PATH}/get/responses/404")]);
        assert!(
            report.differences[0]
                .note
                .as_deref()
                .unwrap()
                .contains("BODYLESS_ERROR_STATUSES")
        );
    }

    #[test]
    fn a_431_with_content_is_rejected() {
        for content in [
            error_content(),
            json!({ "text/plain": { "schema": { "type": "string" } } }),
        ] {
            let (mut spec, server) = real_pair();
            spec.pointer_mut(&format!("{RUN_PATH}/get/responses"))
                .unwrap()["431"] =
                json!({ "description": "headers too large", "content": content });
            let report = compare(&spec, &server);
            assert_eq!(pointers(&report), [format!("{RUN_PATH}/get/responses/431")]);
            assert!(
                report.differences[0]
                    .note
                    .as_deref()
                    .unwrap()
                    .contains("no `content`")
            );
        }
    }

    #[test]
    fn an_extra_success_status_must_mirror_the_documented_one() {
        let (mut spec, server) = real_pair();
        spec.pointer_mut(&format!(
            "{RUN_PATH}/put/responses/201/content/application~1json/schema"
        ))
        .unwrap()["$ref"] = json!("#/components/schemas/TaskAgentRunWrite");
        let report = compare(&spec, &server);
        assert_eq!(pointers(&report), [format!("{RUN_PATH}/put/responses/201")]);

        let (mut spec, server) = real_pair();
        spec.pointer_mut(&format!("{RUN_PATH}/get/responses"))
            .unwrap()["201"] = spec
            .pointer(&format!("{RUN_PATH}/get/responses/200"))
            .unwrap()
            .clone();
        let report = compare(&spec, &server);
        assert_eq!(
            pointers(&report),
            [format!("{RUN_PATH}/get/responses/201")],
            "no allowance covers GET 201"
        );
    }

    #[test]
    fn descriptions_are_compared_but_not_their_line_breaks() {
        let (mut spec, server) = real_pair();
        let description = &mut spec["components"]["schemas"]["RunFile"]["description"];
        *description = json!(description.as_str().unwrap().replace(' ', "\n  "));
        assert!(compare(&spec, &server).is_in_sync());
        spec["components"]["schemas"]["RunFile"]["description"] = json!("A file.");
        assert_eq!(
            pointers(&compare(&spec, &server)),
            ["/components/schemas/RunFile/description"]
        );
    }

    #[test]
    fn only_an_open_error_schema_is_allowed() {
        let (mut spec, server) = real_pair();
        assert!(compare(&spec, &server).is_in_sync());
        spec["components"]["schemas"]["Error"]["additionalProperties"] = json!(false);
        assert_eq!(
            pointers(&compare(&spec, &server)),
            ["/components/schemas/Error/additionalProperties"]
        );
    }

    #[test]
    fn the_error_codes_in_the_spec_must_be_the_apis() {
        let (mut spec, server) = real_pair();
        let described =
            &mut spec["components"]["schemas"]["Error"]["properties"]["error_code"]["description"];
        let missing_one = described
            .as_str()
            .unwrap()
            .replace("`RunTerminal`", "`Conflict`");
        *described = json!(missing_one);
        assert_eq!(
            pointers(&compare(&spec, &server)),
            ["/components/schemas/Error/properties/error_code/description"]
        );
    }

    #[test]
    fn a_tag_that_no_operation_uses_is_reported() {
        let (mut spec, server) = real_pair();
        spec["tags"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "name": "other", "description": "unused" }));
        let report = compare(&spec, &server);
        assert_eq!(pointers(&report), ["/tags"]);
        assert_eq!(
            report.differences[0].server,
            Some(json!([{ "name": "task-agent-runs" }]))
        );
    }

    #[test]
    fn a_parameter_default_must_be_the_servers() {
        let (mut spec, server) = real_pair();
        let list = "/paths/~1api~1v1~1org~1{org_id}~1project~1{project_id}~1task-agent~1{task_agent_id}~1run/get";
        let parameters = spec
            .pointer_mut(&format!("{list}/parameters"))
            .unwrap()
            .as_array_mut()
            .unwrap();
        let page_limit = parameters
            .iter_mut()
            .find(|p| p["name"] == "page_limit")
            .unwrap();
        page_limit["schema"]["default"] = json!(50);
        let report = compare(&spec, &server);
        assert_eq!(report.differences.len(), 1, "{report}");
        assert_eq!(report.differences[0].spec, Some(json!(50)));
        assert_eq!(report.differences[0].server, Some(json!(100)));
    }
}
