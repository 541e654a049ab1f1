//! Spec ⇄ client: progenitor run on `openapi.yaml` must reproduce the
//! checked-in client, its command-line interface and its mocks byte for
//! byte.
//!
//! progenitor is given the spec in the form that makes one Rust type per
//! concept (`lenient`):
//!
//! - the client is lenient in what it accepts: `additionalProperties` is
//!   dropped (unknown fields are ignored, whatever the object says);
//! - a request form `XWrite` (closed) and its response form `X` (open) are
//!   one type, `X`, since they differ only in what they admit besides;
//! - a nullable component (OpenAPI 3.0.3 puts `nullable` beside the `type`)
//!   is made nullable where it is used instead, which typify reads as an
//!   `Option` of the component's type rather than a wrapper of one;
//! - the enums (`RunStatus` in requests, the open `OpenRunStatus` of
//!   responses, and the same for file sources) are the hand-written types of
//!   `client/src/forward.rs`, which keep a value they do not know instead of
//!   failing the whole response;
//! - the error responses without a body (`BODYLESS_ERROR_STATUSES`, which
//!   the HTTP server sends before any handler) are left out: progenitor
//!   needs one body type for all the errors of an operation (it asserts so),
//!   and the client reports such a status as `Error::UnexpectedResponse`,
//!   with its status and headers, rather than failing to decode an `Error`.

use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use serde_json::Value;

use crate::spec_file::{OPERATION_METHODS, SPEC_PATH, SpecFile, workspace_root};
use crate::spec_sync::BODYLESS_ERROR_STATUSES;

/// The generated files, relative to the workspace root, and what each holds.
pub const GENERATED: [(&str, Output); 3] = [
    ("client/src/generated.rs", Output::Client),
    ("client/src/generated_cli.rs", Output::Cli),
    ("client/src/generated_mock.rs", Output::Mock),
];

/// What progenitor generates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// The client and its types.
    Client,
    /// The `clap` command line over the client.
    Cli,
    /// `httpmock` helpers for the client's users' tests.
    Mock,
}

/// Enums of the spec replaced by forward-compatible types of the client: the
/// closed form that requests carry and the open form of responses are one
/// type in Rust.
const FORWARD_COMPATIBLE: [(&str, &str); 4] = [
    ("RunStatus", "RunStatus"),
    ("OpenRunStatus", "RunStatus"),
    ("RunFileSource", "RunFileSource"),
    ("OpenRunFileSource", "RunFileSource"),
];

/// Where `$ref`s to schemas point.
const SCHEMAS: &str = "#/components/schemas/";

/// The spec as progenitor is given it (see the module documentation).
fn lenient(spec: &SpecFile) -> Result<openapiv3::OpenAPI> {
    let mut json = spec.json.clone();
    drop_bodyless_error_responses(&mut json);
    let schemas = json["components"]["schemas"]
        .as_object_mut()
        .context("the spec has no components.schemas")?;
    let one_form = merge_request_forms(schemas);
    let nullable = take_nullable_components(schemas);
    for_each_object(&mut json, &mut |object| {
        if matches!(object.get("additionalProperties"), Some(Value::Bool(_))) {
            object.remove("additionalProperties");
        }
        let target = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix(SCHEMAS))
            .map(str::to_owned);
        if let Some(name) = target.and_then(|name| one_form.get(&name).cloned()) {
            object.insert("$ref".to_owned(), Value::from(format!("{SCHEMAS}{name}")));
        }
        if let Some(kind) = nullable_reference(object, &one_form, &nullable) {
            object.insert("type".to_owned(), kind);
            object.insert("nullable".to_owned(), Value::Bool(true));
        }
    });
    Ok(serde_json::from_value(json)?)
}

/// Drops the error responses that have no body (see the module
/// documentation) from every operation.
fn drop_bodyless_error_responses(json: &mut Value) {
    let Some(paths) = json.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for method in OPERATION_METHODS {
            if let Some(Value::Object(responses)) =
                item.pointer_mut(&format!("/{method}/responses"))
            {
                for bodyless in BODYLESS_ERROR_STATUSES {
                    responses.remove(bodyless.status);
                }
            }
        }
    }
}

/// Drops each request form `XWrite` that has the properties of its response
/// form `X` (they differ only in what they admit besides, which this client
/// ignores): the client sends and receives one type. Returns the names
/// merged, request form to response form.
fn merge_request_forms(
    schemas: &mut serde_json::Map<String, Value>,
) -> std::collections::HashMap<String, String> {
    let merged: std::collections::HashMap<String, String> = schemas
        .iter()
        .filter_map(|(name, request)| {
            let response_name = name.strip_suffix("Write")?;
            let response = schemas.get(response_name)?;
            let names = |schema: &Value| {
                schema["properties"]
                    .as_object()
                    .map(|properties| properties.keys().cloned().collect::<Vec<_>>())
            };
            (names(request) == names(response)).then(|| (name.clone(), response_name.to_owned()))
        })
        .collect();
    for name in merged.keys() {
        schemas.remove(name);
    }
    merged
}

/// Takes `nullable` off the components that carry it, and returns each
/// one's `type`. typify makes a nullable component a wrapper of an `Option`;
/// made nullable where it is used, it is the component's own type in an
/// `Option`.
fn take_nullable_components(
    schemas: &mut serde_json::Map<String, Value>,
) -> std::collections::HashMap<String, Value> {
    schemas
        .iter_mut()
        .filter_map(|(name, schema)| {
            let schema = schema.as_object_mut()?;
            schema
                .remove("nullable")
                .filter(|value| value == &Value::Bool(true))?;
            Some((name.clone(), schema.get("type")?.clone()))
        })
        .collect()
}

/// The `type` of the nullable component that `object` refers to through
/// `allOf` (under its merged name), if it does.
fn nullable_reference(
    object: &serde_json::Map<String, Value>,
    one_form: &std::collections::HashMap<String, String>,
    nullable: &std::collections::HashMap<String, Value>,
) -> Option<Value> {
    let [member] = object.get("allOf")?.as_array()?.as_slice() else {
        return None;
    };
    let name = member["$ref"].as_str()?.strip_prefix(SCHEMAS)?;
    nullable
        .get(one_form.get(name).map_or(name, String::as_str))
        .cloned()
}

fn for_each_object(value: &mut Value, visit: &mut impl FnMut(&mut serde_json::Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            visit(object);
            object
                .values_mut()
                .for_each(|child| for_each_object(child, visit));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| for_each_object(item, visit)),
        _ => {}
    }
}

fn generator() -> Generator {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote::quote!(crate::ClientState))
        .with_derive("PartialEq")
        .with_derive("schemars::JsonSchema");
    for (name, replacement) in FORWARD_COMPATIBLE {
        let impls = [TypeImpl::Display, TypeImpl::FromStr].into_iter();
        settings.with_replacement(name, format!("crate::forward::{replacement}"), impls);
    }
    Generator::new(&settings)
}

/// The code that `openapi.yaml` generates for `output`, formatted as
/// `cargo fmt` would format it.
pub fn generate(spec: &SpecFile, output: Output) -> Result<String> {
    let openapi = lenient(spec)?;
    let mut generator = generator();
    let failed = |error: progenitor::Error| {
        anyhow::anyhow!("progenitor cannot generate {output:?} from {SPEC_PATH}: {error}")
    };
    let tokens = match output {
        Output::Client => generator.generate_tokens(&openapi).map_err(failed)?,
        Output::Cli => generator.cli(&openapi, "crate").map_err(failed)?,
        Output::Mock => generator.httpmock(&openapi, "crate").map_err(failed)?,
    };
    let file: syn::File =
        syn::parse2(doc_lines(tokens)).context("progenitor produced code that does not parse")?;
    let code = format!(
        "// Generated by `cargo xtask generate` from {SPEC_PATH} with progenitor; do not edit.\n\n{}",
        prettyplease::unparse(&file)
    );
    rustfmt(&code)
}

/// Splits every multi-line `#[doc = "..."]` into one attribute per line, so
/// that the code is printed with `///` comments. (Printed as one `/** */`
/// block, the lines would be indented, and Markdown would read indented
/// prose as code blocks, which rustdoc then compiles as doc tests.)
fn doc_lines(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(pound) if pound.as_char() == '#' => {
                let bang = match tokens.peek() {
                    Some(TokenTree::Punct(bang)) if bang.as_char() == '!' => tokens.next(),
                    _ => None,
                };
                let doc = match tokens.peek() {
                    Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => {
                        syn::parse2::<syn::MetaNameValue>(group.stream())
                            .ok()
                            .filter(|meta| meta.path.is_ident("doc"))
                    }
                    _ => None,
                };
                let text = doc.and_then(|meta| match meta.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }) => Some(text.value()),
                    _ => None,
                });
                match text {
                    Some(text) => {
                        tokens.next();
                        for line in text.lines() {
                            let line = if line.is_empty() {
                                String::new()
                            } else {
                                format!(" {line}")
                            };
                            out.extend(match bang {
                                Some(_) => quote::quote!(#![doc = #line]),
                                None => quote::quote!(#[doc = #line]),
                            });
                        }
                    }
                    None => {
                        out.push(TokenTree::Punct(pound));
                        out.extend(bang);
                    }
                }
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), doc_lines(group.stream()));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Formats code with the toolchain's rustfmt, so that `cargo fmt` leaves the
/// checked-in file alone.
fn rustfmt(code: &str) -> Result<String> {
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned()))
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(code.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Regenerates the checked-in files.
pub fn write(spec: &SpecFile) -> Result<()> {
    for (path, output) in GENERATED {
        let file = workspace_root().join(path);
        std::fs::write(&file, generate(spec, output)?)
            .with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// Outcome of comparing the checked-in files with what the spec generates.
pub struct ClientReport {
    /// `(path, diff)` of every file that differs.
    diffs: Vec<(&'static str, String)>,
}

impl ClientReport {
    /// Whether every checked-in file is what the spec generates.
    pub fn is_in_sync(&self) -> bool {
        self.diffs.is_empty()
    }
}

impl fmt::Display for ClientReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.diffs.is_empty() {
            let paths: Vec<&str> = GENERATED.iter().map(|(path, _)| *path).collect();
            return writeln!(
                f,
                "spec ⇄ client: {} are what {SPEC_PATH} generates",
                paths.join(", ")
            );
        }
        for (path, diff) in &self.diffs {
            writeln!(
                f,
                "spec ⇄ client: {path} differs from what {SPEC_PATH} generates:"
            )?;
            write!(f, "{diff}")?;
        }
        writeln!(
            f,
            "Run `cargo xtask generate` and commit the result; never edit generated files by hand."
        )
    }
}

/// Compares the checked-in files with what the spec generates.
pub fn check(spec: &SpecFile) -> Result<ClientReport> {
    let mut diffs = Vec::new();
    for (path, output) in GENERATED {
        let checked_in = std::fs::read_to_string(workspace_root().join(path)).unwrap_or_default();
        if let Some(diff) = compare(&checked_in, &generate(spec, output)?) {
            diffs.push((path, diff));
        }
    }
    Ok(ClientReport { diffs })
}

/// A readable diff of two versions, or `None` when they are equal.
fn compare(checked_in: &str, generated: &str) -> Option<String> {
    if checked_in == generated {
        return None;
    }
    let diff = similar::TextDiff::from_lines(checked_in, generated)
        .unified_diff()
        .context_radius(2)
        .header("checked in", "generated")
        .to_string();
    const LIMIT: usize = 120;
    let mut lines: Vec<&str> = diff.lines().take(LIMIT + 1).collect();
    if lines.len() > LIMIT {
        lines.truncate(LIMIT);
        lines.push("… (diff truncated)");
    }
    Some(lines.iter().map(|line| format!("    {line}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in client is what the spec generates: `cargo test` catches
    /// a hand edit or a spec change without regeneration.
    #[test]
    fn generated_client_matches_openapi_yaml() {
        let spec = SpecFile::load().unwrap();
        let report = check(&spec).unwrap();
        assert!(report.is_in_sync(), "{report}");
    }

    #[test]
    fn a_spec_change_changes_the_generated_client() {
        let text = std::fs::read_to_string(workspace_root().join(SPEC_PATH)).unwrap();
        let changed = text.replacen(
            "operationId: get_task_agent_run",
            "operationId: fetch_task_agent_run",
            1,
        );
        assert_ne!(text, changed);
        let report = check(&SpecFile::parse(&changed).unwrap()).unwrap();
        assert!(!report.is_in_sync());
        let shown = report.to_string();
        assert!(
            shown.contains("+") && shown.contains("fetch_task_agent_run"),
            "{shown}"
        );
        assert!(
            shown.contains("generated_cli.rs") && shown.contains("generated.rs"),
            "every output follows the spec"
        );
    }

    #[test]
    fn a_hand_edit_of_the_client_is_reported() {
        let generated = generate(&SpecFile::load().unwrap(), Output::Client).unwrap();
        let edited = generated.replacen(
            "pub struct TaskAgentRun {",
            "pub struct TaskAgentRun {\n    pub extra: bool,",
            1,
        );
        let diff = compare(&edited, &generated).expect("a difference");
        assert!(diff.contains("-    pub extra: bool,"), "{diff}");
        assert_eq!(compare(&generated, &generated), None);
    }

    #[test]
    fn the_client_accepts_unknown_fields_and_values() {
        let generated = generate(&SpecFile::load().unwrap(), Output::Client).unwrap();
        assert!(
            !generated.contains("deny_unknown_fields"),
            "a new response field must not break the client"
        );
        assert!(
            generated.contains("crate::forward::RunStatus")
                && !generated.contains("pub enum RunStatus")
        );
    }
}
