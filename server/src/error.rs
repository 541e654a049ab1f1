//! The errors of the API and their HTTP form. Every handler returns
//! [`ApiError`]; this is the one place that turns it into an `HttpError`.

use dropshot::{ClientErrorStatusCode, HttpError};
use http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};

use crate::api::error_codes;
use crate::auth::{AuthError, Denied, TokenRejection};
use crate::storage::{PutError, PutRejection, StoreError};

/// Seconds a client should wait before retrying while the database is down.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed request that dropshot's extractors cannot see (a header).
    #[error("{0}")]
    BadRequest(String),
    /// No usable bearer token, or one that fails verification.
    #[error("{0}")]
    Unauthenticated(TokenRejection),
    /// A verified principal that may not do this.
    #[error("{0}")]
    Forbidden(Denied),
    /// No such run under that org / project / task agent.
    #[error("no such run")]
    NotFound,
    /// The run is terminal and the write would change it.
    #[error("the run is {status} and can no longer change")]
    TerminalRun { status: &'static str },
    /// `If-Match` does not match the stored run.
    #[error("If-Match does not match the stored run's ETag")]
    PreconditionFailed,
    /// Well-formed input that breaks a rule.
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    /// The server is at its limit of concurrent requests.
    #[error("the server is at its limit of concurrent requests; retry shortly")]
    Overloaded,
    /// The database cannot be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// The readiness probe's answer when the server cannot serve: the
    /// cause is the message, for the operator looking at the probe (it
    /// says which database and why, never a password).
    #[error("not ready: {0:#}")]
    NotReady(anyhow::Error),
    /// Anything unexpected; the cause goes to the log, not to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A rule violation of `field`.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::Rejected(rejection) => ApiError::Unauthenticated(rejection),
            unavailable @ AuthError::KeysUnavailable(_) => {
                ApiError::Unavailable(anyhow::Error::new(unavailable))
            }
        }
    }
}

impl From<TokenRejection> for ApiError {
    fn from(rejection: TokenRejection) -> ApiError {
        ApiError::Unauthenticated(rejection)
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        ApiError::Forbidden(denied)
    }
}

/// A `WWW-Authenticate` challenge (RFC 6750 §3). The description is made
/// safe for a quoted string.
fn bearer_challenge(error: &str, description: &str, scope: Option<&str>) -> HeaderValue {
    let description: String = description
        .chars()
        .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
        .collect();
    let mut challenge = format!(
        "Bearer realm=\"task-agent-runs\", error=\"{error}\", error_description=\"{description}\""
    );
    if let Some(scope) = scope {
        challenge.push_str(&format!(", scope=\"{scope}\""));
    }
    HeaderValue::from_str(&challenge).expect("printable ASCII is a valid header value")
}

impl From<PutRejection> for ApiError {
    fn from(rejection: PutRejection) -> ApiError {
        match rejection {
            PutRejection::PreconditionFailed => ApiError::PreconditionFailed,
            PutRejection::Terminal(status) => ApiError::TerminalRun {
                status: status.as_str(),
            },
        }
    }
}

impl From<PutError> for ApiError {
    fn from(error: PutError) -> ApiError {
        match error {
            PutError::Rejected(rejection) => rejection.into(),
            PutError::Store(error) => error.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> HttpError {
        let message = error.to_string();
        let client = |code: &str, status: ClientErrorStatusCode| {
            HttpError::for_client_error(Some(code.to_owned()), status, message.clone())
        };
        match error {
            ApiError::BadRequest(_) => {
                client(error_codes::BAD_REQUEST, ClientErrorStatusCode::BAD_REQUEST)
            }
            ApiError::Unauthenticated(_) => {
                let mut error = client(
                    error_codes::UNAUTHORIZED,
                    ClientErrorStatusCode::UNAUTHORIZED,
                );
                error.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    bearer_challenge("invalid_token", &message, None),
                );
                error
            }
            ApiError::Forbidden(Denied::MissingScope(scope)) => {
                let mut error = client(error_codes::FORBIDDEN, ClientErrorStatusCode::FORBIDDEN);
                let challenge = bearer_challenge("insufficient_scope", &message, Some(scope));
                error.headers_mut().insert(WWW_AUTHENTICATE, challenge);
                error
            }
            ApiError::Forbidden(_) => {
                client(error_codes::FORBIDDEN, ClientErrorStatusCode::FORBIDDEN)
            }
            ApiError::NotFound => client(error_codes::NOT_FOUND, ClientErrorStatusCode::NOT_FOUND),
            ApiError::TerminalRun { .. } => {
                client(error_codes::RUN_TERMINAL, ClientErrorStatusCode::CONFLICT)
            }
            ApiError::PreconditionFailed => client(
                error_codes::PRECONDITION_FAILED,
                ClientErrorStatusCode::PRECONDITION_FAILED,
            ),
            ApiError::Invalid { .. } => client(
                error_codes::INVALID_VALUE,
                ClientErrorStatusCode::UNPROCESSABLE_ENTITY,
            ),
            ApiError::Overloaded => retry_later(HttpError::for_unavail(
                Some(error_codes::OVERLOADED.to_owned()),
                message,
            )),
            ApiError::Unavailable(cause) => retry_later(HttpError::for_unavail(
                Some(error_codes::SERVICE_UNAVAILABLE.to_owned()),
                format!("{cause:#}"),
            )),
            ApiError::NotReady(_) => retry_later(HttpError {
                external_message: message.clone(),
                ..HttpError::for_unavail(Some(error_codes::SERVICE_UNAVAILABLE.to_owned()), message)
            }),
            ApiError::Internal(cause) => HttpError::for_internal_error(format!("{cause:#}")),
        }
    }
}

/// A 503 that tells the client when to try again.
fn retry_later(mut error: HttpError) -> HttpError {
    error
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(error: &HttpError, name: http::header::HeaderName) -> Option<&str> {
        error
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name))
            .map(|value| value.to_str().unwrap())
    }

    #[test]
    fn a_refused_token_is_401_with_its_reason_in_the_challenge() {
        let error = HttpError::from(ApiError::from(AuthError::from(TokenRejection::Expired)));
        assert_eq!(error.status_code.as_u16(), 401);
        assert_eq!(error.error_code.as_deref(), Some(error_codes::UNAUTHORIZED));
        assert_eq!(error.external_message, "the token has expired");
        assert_eq!(
            header(&error, WWW_AUTHENTICATE),
            Some(
                "Bearer realm=\"task-agent-runs\", error=\"invalid_token\", error_description=\"the token has expired\""
            )
        );
    }

    #[test]
    fn unavailable_keys_are_503_and_the_log_says_why_once() {
        let error = HttpError::from(ApiError::from(AuthError::KeysUnavailable(
            "fetching http://idp/jwks.json: status 500".to_owned(),
        )));
        assert_eq!(error.status_code.as_u16(), 503);
        assert_eq!(header(&error, RETRY_AFTER), Some("1"));
        assert_eq!(
            error.internal_message,
            "the token issuer's keys are unavailable: fetching http://idp/jwks.json: status 500"
        );
    }

    #[test]
    fn not_ready_is_503_and_says_why() {
        let cause = anyhow::anyhow!("error performing TLS handshake").context("connecting to db");
        let error = HttpError::from(ApiError::NotReady(cause));
        assert_eq!(error.status_code.as_u16(), 503);
        assert_eq!(header(&error, RETRY_AFTER), Some("1"));
        assert_eq!(
            error.external_message,
            "not ready: connecting to db: error performing TLS handshake"
        );
    }

    #[test]
    fn every_code_the_server_sends_is_listed_with_its_status() {
        let errors = [
            ApiError::BadRequest("If-Match".to_owned()),
            ApiError::Unauthenticated(TokenRejection::Missing),
            ApiError::Forbidden(Denied::NotAMember),
            ApiError::Forbidden(Denied::MissingScope("s")),
            ApiError::NotFound,
            ApiError::TerminalRun {
                status: "completed",
            },
            ApiError::PreconditionFailed,
            ApiError::invalid("field", "problem"),
            ApiError::Overloaded,
            ApiError::Unavailable(anyhow::anyhow!("down")),
            ApiError::NotReady(anyhow::anyhow!("down")),
            ApiError::Internal(anyhow::anyhow!("bug")),
        ];
        for error in errors {
            let what = format!("{error:?}");
            let error = HttpError::from(error);
            let code = error.error_code.expect("every error has a code");
            assert!(
                error_codes::ERROR_CODES.iter().any(
                    |listed| listed.code == code && listed.status == error.status_code.as_u16()
                ),
                "{what}: {code} with {} is not in ERROR_CODES",
                error.status_code
            );
        }
    }
}
