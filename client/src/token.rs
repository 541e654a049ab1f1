//! Authenticating with a bearer token.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::Client;

/// Time a request may take, connection included, before it fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A token that cannot be sent in an HTTP header (it contains control
/// characters or non-ASCII text).
#[derive(Debug, thiserror::Error)]
#[error("the bearer token cannot be sent in an HTTP header")]
pub struct InvalidToken;

impl Client {
    /// A client of the API at `base_url` (for example
    /// `http://127.0.0.1:8080`) that sends `token` as `Authorization: Bearer`
    /// on every request.
    pub fn with_bearer_token(base_url: &str, token: &str) -> Result<Client, InvalidToken> {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| InvalidToken)?;
        // Keeps the token out of debug output.
        value.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Ok(Client::new_with_client(base_url, http))
    }
}
