//! Constrained strings that appear in several places of a run; each is one
//! named schema, so generated clients get one type for it.

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject, StringValidation};
use serde::{Deserialize, Serialize};

/// The pattern of a [`Decimal`]: an optional sign, digits with at most one
/// decimal point, and at least one digit. Written for every regular
/// expression engine that generated clients use: no look-ahead (Go's RE2
/// and openapi-generator have none) and `[0-9]` rather than `\d` (which
/// Python's `re` reads as any Unicode digit).
pub const DECIMAL_PATTERN: &str = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$";

/// Most characters in a [`SessionId`].
pub const SESSION_ID_MAX_CHARS: u32 = 128;

/// The pattern of a [`SessionId`]: any characters but NUL, which databases
/// cannot store in the text columns that sessions are looked up by. `\x00`,
/// not `\u0000`, which Go's RE2 does not read.
pub const SESSION_ID_PATTERN: &str = r"^[^\x00]*$";

/// A credit amount as a decimal string (for example `"0.0450"`), exact where
/// a binary float would round.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Decimal(pub String);

/// An ADK session id: opaque, 1 to 128 characters, no NUL.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(transparent)]
pub struct SessionId(pub String);

fn string_schema(description: &str, validation: StringValidation) -> Schema {
    Schema::Object(SchemaObject {
        metadata: Some(Box::new(Metadata {
            description: Some(description.to_owned()),
            ..Default::default()
        })),
        instance_type: Some(InstanceType::String.into()),
        string: Some(Box::new(validation)),
        ..Default::default()
    })
}

impl JsonSchema for Decimal {
    fn schema_name() -> String {
        "Decimal".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "A credit amount as a decimal string (for example `\"0.0450\"`): an optional sign, \
             digits with at most one decimal point, and at least one digit; `null` where no \
             amount is known.",
            StringValidation {
                pattern: Some(DECIMAL_PATTERN.to_owned()),
                ..Default::default()
            },
        )
    }
}

impl JsonSchema for SessionId {
    fn schema_name() -> String {
        "SessionId".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "An ADK session id: opaque, 1 to 128 characters, any but NUL.",
            StringValidation {
                min_length: Some(1),
                max_length: Some(SESSION_ID_MAX_CHARS),
                pattern: Some(SESSION_ID_PATTERN.to_owned()),
            },
        )
    }
}
