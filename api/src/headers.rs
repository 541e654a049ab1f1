//! Request and response headers that the operations document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Response headers of a run.
#[derive(Clone, Debug, JsonSchema, Serialize)]
pub struct RunHeaders {
    /// Strong entity tag of the stored run; send it back in `If-Match` to
    /// replace the run only if nobody changed it in between.
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// Conditional-request headers of `PUT`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct PutRunHeaders {
    /// Replace the run only if its current `ETag` is one of these (or `*` for
    /// any existing run); otherwise the request fails with 412.
    #[serde(rename = "If-Match")]
    pub if_match: Option<String>,
}
