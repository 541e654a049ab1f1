//! The precision of the API's timestamps: the millisecond.
//!
//! Clients keep time at different precisions (JavaScript's `Date` in
//! milliseconds, Python's `datetime` in microseconds, Go's `time.Time` in
//! nanoseconds). A run read by one of them and written back unchanged must
//! stay unchanged, or a finished run would be refused as changed (409), so
//! the server keeps what every client can hold: digits after the millisecond
//! are dropped when a run is written.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer};

/// Digits of a second that the API keeps.
const KEPT_DIGITS: u16 = 3;

/// Reads a timestamp, dropping the digits after the millisecond.
pub fn millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(deserializer).map(|instant| instant.trunc_subsecs(KEPT_DIGITS))
}

/// Reads a timestamp or `null`, dropping the digits after the millisecond.
pub fn optional_millis<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<DateTime<Utc>>::deserialize(deserializer)
        .map(|instant| instant.map(|instant| instant.trunc_subsecs(KEPT_DIGITS)))
}
