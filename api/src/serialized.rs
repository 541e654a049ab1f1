//! JSON that is already serialized: runs are stored as the JSON text of a
//! `TaskAgentRun`, so reads send the stored bytes as they are instead of
//! parsing and re-serializing every nested list on the hot path.

use std::marker::PhantomData;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The JSON text of a `T`, documented with `T`'s schema.
pub struct Serialized<T> {
    json: String,
    of: PhantomData<fn() -> T>,
}

impl<T: Serialize> Serialized<T> {
    /// Serializes `value`.
    pub fn new(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::from_json(serde_json::to_string(value)?))
    }
}

impl<T> Serialized<T> {
    /// Wraps JSON text that its caller knows to be the serialization of a `T`:
    /// it was produced by [`Serialized::new`] and stored, and the stores
    /// refuse to hold a body that is not JSON. It is not parsed again.
    pub fn from_json(json: String) -> Self {
        Serialized {
            json,
            of: PhantomData,
        }
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The JSON text, owned.
    pub fn into_json(self) -> String {
        self.json
    }
}

impl<T> Clone for Serialized<T> {
    fn clone(&self) -> Self {
        Self::from_json(self.json.clone())
    }
}

impl<T> std::fmt::Debug for Serialized<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.json)
    }
}

// Inside another document (a page of runs), the text goes in as it is.
// serde_json writes text unparsed only as a `RawValue`, which it makes only
// of text it has checked: this check is the one cost of embedding.
impl<T> Serialize for Serialized<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.json).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}
