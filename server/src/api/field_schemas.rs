//! Schemas of fields that `#[derive(JsonSchema)]` cannot express by itself.
//!
//! schemars 0.8 never lists an `Option` field as required, but a response
//! carries every field, so nullable response fields use `schema_with` (which
//! makes the field required unless it also has `#[serde(default)]`).

use schemars::r#gen::SchemaGenerator;
use schemars::schema::{Schema, SchemaObject, SubschemaValidation};
use serde_json::Value;

/// `T`, or `null`. A reference is wrapped in `allOf`, as OpenAPI 3.0 ignores
/// siblings of `$ref` (so `nullable` and the field's description survive),
/// and the wrapper repeats the referenced schema's `type`, without which
/// OpenAPI 3.0.3 gives `nullable` no effect.
pub fn nullable<T: schemars::JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let inner = generator.subschema_for::<T>();
    let mut schema = match inner {
        Schema::Object(object) if object.is_ref() => SchemaObject {
            instance_type: generator
                .definitions()
                .get(&T::schema_name())
                .and_then(|definition| definition.clone().into_object().instance_type),
            subschemas: Some(Box::new(SubschemaValidation {
                all_of: Some(vec![Schema::Object(object)]),
                ..Default::default()
            })),
            ..Default::default()
        },
        other => other.into_object(),
    };
    schema
        .extensions
        .insert("nullable".to_owned(), Value::Bool(true));
    Schema::Object(schema)
}

/// A count (of milliseconds, tokens, ...) that is at least zero, or `null`.
pub fn nullable_count(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = nullable::<i64>(generator).into_object();
    schema.number().minimum = Some(0.0);
    Schema::Object(schema)
}
