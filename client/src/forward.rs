//! The enums of the API, written so that a value added by a later version of
//! the server is kept as [`RunStatus::Unknown`] (or
//! [`RunFileSource::Unknown`]) instead of failing the whole response. The
//! generated code uses these in place of the spec's enums (see
//! `cargo xtask generate`).

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum whose unknown values are kept.
macro_rules! forward_compatible_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Eq, Hash, PartialEq, Ord, PartialOrd)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
            /// A value this version of the client does not know (the server
            /// is newer): the value as sent.
            Unknown(String),
        }

        impl $name {
            /// Every value this version of the client knows.
            pub const KNOWN: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name of the value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Unknown(value) => value,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(value: &str) -> Result<$name, Infallible> {
                Ok(match value {
                    $($wire => $name::$variant,)*
                    other => $name::Unknown(other.to_owned()),
                })
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> $name {
                value.parse().unwrap_or_else(|never: Infallible| match never {})
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let value = Cow::<'de, str>::deserialize(deserializer)?;
                Ok($name::from(value.as_ref()))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                Schema::Object(SchemaObject {
                    metadata: Some(Box::new(Metadata {
                        description: Some(concat!("One of: ", $($wire, " ",)* "(or a later value).").to_owned()),
                        ..Default::default()
                    })),
                    instance_type: Some(InstanceType::String.into()),
                    ..Default::default()
                })
            }
        }
    };
}

forward_compatible_enum! {
    /// Lifecycle state of a run. `completed`, `failed` and `cancelled` are
    /// terminal: a terminal run has `completed` set and can no longer change.
    RunStatus {
        /// Not started yet.
        Pending => "pending",
        /// In progress.
        Running => "running",
        /// Finished normally.
        Completed => "completed",
        /// Finished with an error.
        Failed => "failed",
        /// Stopped before finishing.
        Cancelled => "cancelled",
    }
}

forward_compatible_enum! {
    /// Where a run's file came from.
    RunFileSource {
        /// Uploaded as an input of the run.
        Uploaded => "uploaded",
        /// Produced by a tool during the run.
        Generated => "generated",
    }
}

impl RunStatus {
    /// Whether the run has ended (`completed`, `failed` or `cancelled`).
    /// An unknown status counts as not ended.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        for status in RunStatus::KNOWN {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(&serde_json::from_str::<RunStatus>(&json).unwrap(), status);
        }
        let later: RunStatus = serde_json::from_str("\"paused\"").unwrap();
        assert_eq!(later, RunStatus::Unknown("paused".to_owned()));
        assert_eq!(serde_json::to_string(&later).unwrap(), "\"paused\"");
        assert_eq!(
            "generated".parse::<RunFileSource>().unwrap(),
            RunFileSource::Generated
        );
        assert!(!later.is_terminal() && RunStatus::Failed.is_terminal());
    }
}
