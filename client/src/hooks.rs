//! What the generated client does around each request: authentication,
//! retries and tracing. Progenitor calls these hooks; an implementation for
//! `Client` takes precedence over the empty one it generates for `&Client`.

use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, Request, Response, StatusCode};

use crate::Client;
use crate::auth::Credentials;
use crate::retry::{RetryPolicy, retry_after};

/// What a client carries besides its HTTP client: how it authenticates and
/// retries.
#[derive(Clone, Debug, Default)]
pub struct ClientState {
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
}

/// The `Authorization` value for `token`; `None` if it cannot be a header.
pub(crate) fn bearer(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    // Keeps the token out of debug output.
    value.set_sensitive(true);
    Some(value)
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Whether a transport error happened before any answer, and trying again
/// could succeed (a refused or reset connection; not a timeout, which may
/// mean the server is still working on the first attempt).
fn retries_error(error: &reqwest::Error) -> bool {
    (error.is_connect() || error.is_request()) && !error.is_timeout()
}

fn request_id(response: &Response) -> &str {
    response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(&self, request: &mut Request, _info: &OperationInfo) -> Result<(), Error<E>> {
        let token = self
            .inner()
            .credentials
            .token()
            .await
            .map_err(|error| Error::Custom(error.to_string()))?;
        if let Some(token) = token {
            let value = bearer(&token)
                .ok_or_else(|| Error::Custom("the token is not a valid header value".into()))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(())
    }

    async fn exec(&self, mut request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let state = self.inner();
        let (method, url) = (request.method().clone(), request.url().clone());
        let idempotent = is_idempotent(&method);
        let mut attempt = 1;
        let mut token_replaced = false;
        loop {
            // A body that cannot be replayed (a stream) gets one attempt.
            let Some(this_attempt) = request.try_clone() else {
                return self.client().execute(request).await;
            };
            let sent = Instant::now();
            let result = self.client().execute(this_attempt).await;
            let elapsed_ms = sent.elapsed().as_secs_f64() * 1e3;
            let retry_in = match &result {
                Ok(response) => {
                    tracing::debug!(
                        target: "task_agent_client", operation = info.operation_id, %method, %url, attempt,
                        status = response.status().as_u16(), request_id = request_id(response), elapsed_ms,
                        "response"
                    );
                    if response.status() == StatusCode::UNAUTHORIZED && !token_replaced {
                        token_replaced = true;
                        if let Some(token) = self.replace_token(&request).await {
                            request.headers_mut().insert(AUTHORIZATION, token);
                            tracing::debug!(target: "task_agent_client", operation = info.operation_id, "retrying with a new token");
                            continue;
                        }
                    }
                    (idempotent && RetryPolicy::retries_status(response.status()))
                        .then(|| state.retry.delay(attempt, retry_after(response.headers())))
                }
                Err(error) => {
                    tracing::debug!(
                        target: "task_agent_client", operation = info.operation_id, %method, %url, attempt,
                        error = %error, elapsed_ms, "request failed"
                    );
                    (idempotent && retries_error(error)).then(|| state.retry.delay(attempt, None))
                }
            };
            match retry_in {
                Some(delay) if attempt < state.retry.max_attempts => {
                    tracing::info!(
                        target: "task_agent_client", operation = info.operation_id, attempt,
                        delay_ms = delay.as_millis() as u64, "retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return result,
            }
        }
    }
}

impl Client {
    /// The `Authorization` value of a new token, after the API refused the
    /// one in `request`, if the credentials can get one.
    async fn replace_token(&self, request: &Request) -> Option<HeaderValue> {
        let sent = request
            .headers()
            .get(AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        let token = self.inner().credentials.replace(sent).await?;
        bearer(&token)
    }
}

/// The longest a request may take before it fails (see
/// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
