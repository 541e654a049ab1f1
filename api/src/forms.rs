//! The two forms of the objects that both requests and responses carry.
//!
//! A response promises its readers that a later version of the API may add
//! fields to its objects and values to its enums, and clients generated from
//! the spec must accept what they do not know: so a response's objects say
//! `additionalProperties: true` (openapi-generator, for one, rejects unknown
//! fields unless they do) and its enums are open strings (a closed `enum`
//! makes most generated clients fail on a new value). A request is strict:
//! the server refuses unknown fields and values, so the same objects in a
//! `PUT` body are closed and named `...Write`, and its enums list every value
//! the server accepts.
//!
//! Each object is one Rust type, whose derived schema is the request form
//! (serde's `deny_unknown_fields` makes it closed); [`Open`] and [`Write`]
//! give it the name and the schema of each form.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Serialize, Serializer};

/// Where schemars puts the components that `$ref`s point to.
const DEFINITIONS: &str = "#/components/schemas/";

/// A value as a response carries it, under `T`'s name: its objects admit
/// fields that later versions add, and its enums values they add.
pub struct Open<T>(pub T);

impl<T: Serialize> Serialize for Open<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Open<T> {
    fn schema_name() -> String {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("Open<{}>", T::schema_id()))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = T::json_schema(generator).into_object();
        let object = schema.object();
        object.additional_properties = Some(Box::new(Schema::Bool(true)));
        for property in object.properties.values_mut() {
            open_enum_reference(generator, property);
        }
        Schema::Object(schema)
    }
}

/// `T` as a request carries it, under `T`'s name with `Write` added: closed,
/// as serde reads it.
pub struct Write<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for Write<T> {
    fn schema_name() -> String {
        format!("{}Write", T::schema_name())
    }

    fn schema_id() -> Cow<'static, str> {
        Cow::Owned(format!("Write<{}>", T::schema_id()))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// Points `property`, if it refers to a closed enum `E`, to `OpenE`: a string
/// documented with `E`'s values, which are the values known today.
fn open_enum_reference(generator: &mut SchemaGenerator, property: &mut Schema) {
    let Schema::Object(property) = property else {
        return;
    };
    // A reference, or one wrapped in `allOf` beside the field's description.
    let wrapped = property
        .subschemas
        .as_deref()
        .and_then(|subschemas| subschemas.all_of.as_deref());
    let reference = match (&property.reference, wrapped) {
        (Some(reference), _) => reference,
        (
            None,
            Some(
                [
                    Schema::Object(SchemaObject {
                        reference: Some(reference),
                        ..
                    }),
                ],
            ),
        ) => reference,
        _ => return,
    };
    let Some(name) = reference.strip_prefix(DEFINITIONS) else {
        return;
    };
    let Some(Schema::Object(closed)) = generator.definitions().get(name) else {
        return;
    };
    let Some(values) = closed.enum_values.as_ref() else {
        return;
    };
    let known: Vec<String> = values
        .iter()
        .map(|value| format!("`{}`", value.as_str().unwrap_or_default()))
        .collect();
    let description = closed
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.description.clone())
        .unwrap_or_default();
    let open_name = format!("Open{name}");
    let open = SchemaObject {
        metadata: Some(Box::new(Metadata {
            description: Some(format!(
                "{description} Known values: {}. A later version of the API may add values \
                 (which requests then accept as `{name}`): read a value you do not know as \
                 unknown, not as an error.",
                known.join(", ")
            )),
            ..Default::default()
        })),
        instance_type: Some(InstanceType::String.into()),
        ..Default::default()
    };
    generator
        .definitions_mut()
        .insert(open_name.clone(), Schema::Object(open));
    let open_reference = format!("{DEFINITIONS}{open_name}");
    match &mut property.subschemas {
        Some(subschemas) if subschemas.all_of.is_some() => {
            subschemas.all_of = Some(vec![Schema::new_ref(open_reference)]);
        }
        _ => property.reference = Some(open_reference),
    }
}
