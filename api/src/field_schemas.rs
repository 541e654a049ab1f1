//! Schemas of fields that `#[derive(JsonSchema)]` cannot express by itself.
//!
//! schemars 0.8 never lists an `Option` field as required, but a response
//! carries every field, so nullable response fields use `schema_with` (which
//! makes the field required unless it also has `#[serde(default)]`); and it
//! marks every `Option` `nullable`, which a query parameter cannot be.

use schemars::r#gen::SchemaGenerator;
use schemars::schema::{Schema, SchemaObject, SubschemaValidation};
use serde_json::Value;

/// `T`, or `null`. OpenAPI 3.0.3 gives `nullable` effect only beside a
/// `type`, so a reference cannot be made nullable where it is used (strict
/// validators then refuse `null`, and openapi-python-client reads such a
/// field as never null): the component itself admits `null` (every use of
/// it in this API may be null), and the reference is wrapped in `allOf`,
/// which keeps the field's own description.
pub fn nullable<T: schemars::JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    match generator.subschema_for::<T>() {
        Schema::Object(reference) if reference.is_ref() => {
            if let Some(Schema::Object(component)) =
                generator.definitions_mut().get_mut(&T::schema_name())
            {
                component
                    .extensions
                    .insert("nullable".to_owned(), Value::Bool(true));
            }
            Schema::Object(SchemaObject {
                subschemas: Some(Box::new(SubschemaValidation {
                    all_of: Some(vec![Schema::Object(reference)]),
                    ..Default::default()
                })),
                ..Default::default()
            })
        }
        inline => {
            let mut schema = inline.into_object();
            schema
                .extensions
                .insert("nullable".to_owned(), Value::Bool(true));
            Schema::Object(schema)
        }
    }
}

/// `T`, for a query parameter that may be left out. schemars marks an
/// `Option` `nullable`, but a query string cannot carry `null`, and
/// generated clients that read `nullable` send `?name=null`.
pub fn optional<T: schemars::JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A count (of milliseconds, tokens, ...) that is at least zero, or `null`.
pub fn nullable_count(generator: &mut SchemaGenerator) -> Schema {
    at_least_zero(nullable::<i64>(generator))
}

/// A count that is at least zero, for a query parameter that may be left out.
pub fn optional_count(generator: &mut SchemaGenerator) -> Schema {
    at_least_zero(optional::<i64>(generator))
}

fn at_least_zero(schema: Schema) -> Schema {
    let mut schema = schema.into_object();
    schema.number().minimum = Some(0.0);
    Schema::Object(schema)
}
