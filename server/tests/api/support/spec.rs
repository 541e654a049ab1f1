//! The checked-in `openapi.yaml` as a response validator: finds the
//! operation and the documented response of an exchange and validates its
//! JSON body against the spec's schema (not the server's own types).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The spec, ready to validate responses.
pub struct Spec {
    /// `(method, path template split into segments, operation)`.
    operations: Vec<(String, Vec<String>, Value)>,
    /// `components`, converted to JSON Schema, as the root of every `$ref`.
    components: Value,
    /// Response objects of `components.responses`, for resolving `$ref`s.
    responses: BTreeMap<String, Value>,
}

impl Spec {
    /// Loads `openapi.yaml` from the workspace root.
    pub fn load() -> Spec {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
        let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
        let document: Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            let segments: Vec<String> = path.split('/').map(str::to_owned).collect();
            for (method, operation) in item.as_object().expect("path item") {
                if method != "parameters" {
                    operations.push((method.to_uppercase(), segments.clone(), operation.clone()));
                }
            }
        }
        let responses = document["components"]["responses"]
            .as_object()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Spec {
            operations,
            components: to_json_schema(&document["components"]),
            responses,
        }
    }

    /// Checks one response; `Err` says what does not conform.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        let segments: Vec<&str> = path
            .split('?')
            .next()
            .unwrap_or_default()
            .split('/')
            .collect();
        let Some((_, _, operation)) = self.operations.iter().find(|(m, template, _)| {
            m == method
                && template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
        }) else {
            return Ok(()); // Not an operation of the spec (probes, docs).
        };
        let name = operation["operationId"].as_str().unwrap_or("?");
        let responses = &operation["responses"];
        let mut response = responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("{name}: status {status} is not documented"))?
            .clone();
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            let key = reference.rsplit('/').next().unwrap_or_default();
            response = self
                .responses
                .get(key)
                .cloned()
                .ok_or_else(|| format!("unresolved {reference}"))?;
        }
        let Some(schema) = response.pointer("/content/application~1json/schema") else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!("{name} {status}: undocumented body"))
            };
        };
        if !content_type.is_some_and(|c| c.starts_with("application/json")) {
            return Err(format!(
                "{name} {status}: content type {content_type:?}, expected application/json"
            ));
        }
        let instance: Value = serde_json::from_slice(body)
            .map_err(|error| format!("{name} {status}: body is not JSON: {error}"))?;
        let mut root = to_json_schema(schema);
        root["components"] = self.components.clone();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|error| {
                format!("{name} {status}: the spec's schema does not compile: {error}")
            })?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{name} {status}: body does not match the spec: {}",
                errors.join("; ")
            ))
        }
    }
}

/// Converts OpenAPI 3.0 schemas to JSON Schema: `nullable: true` admits
/// `null` (also around `allOf` and `$ref`, where a `type` list cannot).
fn to_json_schema(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut converted: serde_json::Map<String, Value> = object
                .iter()
                .filter(|(key, _)| key.as_str() != "nullable" && key.as_str() != "example")
                .map(|(key, child)| (key.clone(), to_json_schema(child)))
                .collect();
            if object.get("nullable") == Some(&Value::Bool(true)) {
                let description = converted.remove("description");
                let mut nullable =
                    json!({ "anyOf": [{ "type": "null" }, Value::Object(converted)] });
                if let Some(description) = description {
                    nullable["description"] = description;
                }
                return nullable;
            }
            Value::Object(converted)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str =
        "/api/v1/org/00000000-0000-0000-0000-000000000000/project/a/task-agent/b/run/c";

    /// The spec's own example of a run.
    fn example_run() -> Value {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
            .unwrap();
        let document: Value = serde_norway::from_str(&text).unwrap();
        document["components"]["examples"]["CompletedRun"]["value"].clone()
    }

    /// The checker itself: it must fail on what does not conform, or the
    /// conformance of every other test would prove nothing.
    #[test]
    fn the_checker_rejects_what_the_spec_does_not_allow() {
        let spec = Spec::load();
        let json = Some("application/json");
        let error = br#"{"request_id": "r", "message": "m"}"#;
        assert!(spec.check("GET", RUN, 404, json, error).is_ok());
        assert!(
            spec.check("GET", RUN, 409, json, error)
                .unwrap_err()
                .contains("not documented")
        );
        assert!(
            spec.check("GET", RUN, 404, json, br#"{"message": "m"}"#)
                .unwrap_err()
                .contains("request_id")
        );
        assert!(
            spec.check("GET", RUN, 404, Some("text/plain"), error)
                .is_err()
        );

        let run = example_run();
        assert!(
            spec.check("GET", RUN, 200, json, run.to_string().as_bytes())
                .is_ok(),
            "the spec's example conforms"
        );
        let broken: [(&str, Value); 6] = [
            ("session_id", Value::Null),
            ("charged_credits", json!("1.2.3")),
            ("created", json!("yesterday")),
            ("status", json!(5)),
            ("input_tokens", json!(-1)),
            ("context_usage", json!({"used_tokens": 1})),
        ];
        for (field, value) in broken {
            let mut bad = run.clone();
            bad[field] = value;
            assert!(
                spec.check("GET", RUN, 200, json, bad.to_string().as_bytes())
                    .is_err(),
                "{field}"
            );
        }
        let mut missing = run.clone();
        missing.as_object_mut().unwrap().remove("files");
        assert!(
            spec.check("GET", RUN, 200, json, missing.to_string().as_bytes())
                .is_err(),
            "a missing field"
        );
        let mut later = run.clone();
        later["status"] = json!("paused");
        later["later_field"] = json!({"added": true});
        later["files"][0]["source"] = json!("emailed");
        later["model_usages"][0]["later_field"] = json!(1);
        assert!(
            spec.check("GET", RUN, 200, json, later.to_string().as_bytes())
                .is_ok(),
            "what a later version may add: fields and enum values"
        );
        let mut nulls = run;
        nulls["context_usage"] = Value::Null;
        nulls["charged_credits"] = Value::Null;
        assert!(
            spec.check("GET", RUN, 200, json, nulls.to_string().as_bytes())
                .is_ok(),
            "nullable fields"
        );
    }
}
