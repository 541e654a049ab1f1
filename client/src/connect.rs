//! Building a client: where the API is, how to authenticate, how long to
//! wait and how often to retry.

use std::sync::Arc;
use std::time::Duration;

use crate::Client;
use crate::auth::{ClientCredentials, Credentials};
use crate::hooks::{self, ClientState, DEFAULT_TIMEOUT};
use crate::retry::RetryPolicy;

/// How long connecting to the API may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The bearer token contains characters an HTTP header cannot carry.
    #[error("the bearer token cannot be sent in an HTTP header")]
    InvalidToken,
    #[error("the HTTP client cannot be built: {0}")]
    Http(#[from] reqwest::Error),
}

/// Builds a [`Client`]: `Client::builder(base_url)...build()`.
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    state: ClientState,
    timeout: Duration,
}

impl ClientBuilder {
    /// A client of the API at `base_url` (for example
    /// `https://app.rightbrain.ai`), unauthenticated, with the default
    /// timeout and retries.
    pub fn new(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            state: ClientState::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sends `token` as `Authorization: Bearer` on every request.
    pub fn bearer_token(mut self, token: impl Into<String>) -> ClientBuilder {
        self.state.credentials = Credentials::BearerToken(token.into());
        self
    }

    /// Obtains tokens with the client-credentials grant, caches them and
    /// replaces them before they expire, and once more when the API refuses
    /// one with 401.
    pub fn client_credentials(mut self, credentials: ClientCredentials) -> ClientBuilder {
        self.state.credentials = Credentials::ClientCredentials(Arc::new(credentials));
        self
    }

    /// How long one attempt of a request may take, connection included
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// When to retry (default: [`RetryPolicy::default`];
    /// [`RetryPolicy::none`] turns retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> ClientBuilder {
        self.state.retry = policy;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, BuildError> {
        if let Credentials::BearerToken(token) = &self.state.credentials
            && hooks::bearer(token).is_none()
        {
            return Err(BuildError::InvalidToken);
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
            .user_agent(concat!("task-agent-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client::new_with_client(
            self.base_url.trim_end_matches('/'),
            http,
            self.state,
        ))
    }
}

impl Client {
    /// A builder of a client of the API at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// A client of the API at `base_url` that sends `token` as
    /// `Authorization: Bearer`, with the default timeout and retries.
    pub fn with_bearer_token(base_url: &str, token: &str) -> Result<Client, BuildError> {
        ClientBuilder::new(base_url).bearer_token(token).build()
    }
}
