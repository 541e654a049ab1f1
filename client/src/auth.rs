//! How the client authenticates: a static bearer token, or OAuth 2.0 client
//! credentials exchanged for access tokens at an Ory Hydra-style token
//! endpoint, cached and refreshed before they expire.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Lifetime assumed for a token whose response gives none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// How long before its expiry a token is replaced (at most a tenth of its
/// lifetime), so that no request leaves with a token about to expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What the client sends as `Authorization`.
#[derive(Clone, Default)]
pub enum Credentials {
    /// Nothing (the API answers 401).
    #[default]
    None,
    /// The same bearer token on every request.
    BearerToken(String),
    /// Tokens obtained with the client-credentials grant, refreshed as needed.
    ClientCredentials(Arc<ClientCredentials>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::BearerToken(_) => f.write_str("BearerToken(***)"),
            Credentials::ClientCredentials(provider) => {
                f.debug_tuple("ClientCredentials").field(provider).finish()
            }
        }
    }
}

impl Credentials {
    /// The token to send now, if any.
    pub async fn token(&self) -> Result<Option<String>, TokenError> {
        match self {
            Credentials::None => Ok(None),
            Credentials::BearerToken(token) => Ok(Some(token.clone())),
            Credentials::ClientCredentials(provider) => provider.token().await.map(Some),
        }
    }

    /// A new token after the API refused `rejected` with 401, if these
    /// credentials can get one.
    pub async fn replace(&self, rejected: &str) -> Option<String> {
        match self {
            Credentials::ClientCredentials(provider) => provider.replace(rejected).await.ok(),
            _ => None,
        }
    }
}

/// Why no token could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token endpoint cannot be reached: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the token endpoint refused the client credentials: {status}: {body}")]
    Refused {
        status: reqwest::StatusCode,
        body: String,
    },
    #[error("the token endpoint answered something other than a token: {0}")]
    Malformed(#[source] reqwest::Error),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Clone)]
struct CachedToken {
    value: String,
    replace_at: Instant,
}

/// The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) against a token
/// endpoint, with the client secret sent as HTTP basic authentication (Ory
/// Hydra's default, `client_secret_basic`).
pub struct ClientCredentials {
    token_url: String,
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<CachedToken>>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// Credentials for the token endpoint at `token_url`.
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        ClientCredentials {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: Vec::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a reqwest client with default TLS settings builds"),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Credentials for an Ory Hydra issuer (its token endpoint is
    /// `{issuer}/oauth2/token`).
    pub fn hydra(
        issuer: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        ClientCredentials::new(
            format!("{}/oauth2/token", issuer.trim_end_matches('/')),
            client_id,
            client_secret,
        )
    }

    /// Asks for these scopes (for writing runs: `task_agent_runs:write`).
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A token that is not about to expire: the cached one, or a new one.
    pub async fn token(&self) -> Result<String, TokenError> {
        self.cached_unless(|token| Instant::now() >= token.replace_at)
            .await
    }

    /// A token other than `rejected`, which the API refused: a new one,
    /// unless a concurrent request already replaced it.
    pub async fn replace(&self, rejected: &str) -> Result<String, TokenError> {
        self.cached_unless(|token| token.value == rejected).await
    }

    /// The cached token, or a new one (then cached) when there is none or
    /// `stale` says so; one fetch at a time.
    async fn cached_unless(
        &self,
        stale: impl Fn(&CachedToken) -> bool,
    ) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|token| !stale(token)) {
            return Ok(token.value.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token.value)
    }

    async fn fetch(&self) -> Result<CachedToken, TokenError> {
        let scope = self.scopes.join(" ");
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let asked = Instant::now();
        let response = self
            .http
            .post(&self.token_url)
            // RFC 6749 §2.3.1: both are form-encoded before they are
            // joined, and Hydra decodes them (a `+` in a secret matters).
            .basic_auth(
                form_encoded(&self.client_id),
                Some(form_encoded(&self.client_secret)),
            )
            .form(&form)
            .send()
            .await
            .map_err(TokenError::Unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(TokenError::Refused { status, body });
        }
        let token: TokenResponse = response.json().await.map_err(TokenError::Malformed)?;
        let lifetime = token
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        let margin = REFRESH_MARGIN.min(lifetime / 10);
        tracing::debug!(target: "task_agent_client", token_url = %self.token_url, lifetime_secs = lifetime.as_secs(), "obtained an access token");
        Ok(CachedToken {
            value: token.access_token,
            replace_at: asked + lifetime - margin,
        })
    }
}

fn form_encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
