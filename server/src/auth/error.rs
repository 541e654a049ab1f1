//! Why a request's token was not accepted.

use jsonwebtoken::Algorithm;

use super::bearer::MAX_TOKEN_BYTES;
use super::claims::ClaimError;

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request's bearer token is missing or does not verify: 401.
    #[error(transparent)]
    Rejected(#[from] TokenRejection),
    /// The issuer's keys cannot be fetched, so no token can be verified:
    /// 503. The text says why the fetch failed.
    #[error("the token issuer's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

/// Why a bearer token is refused. The text is shown to the client and
/// logged; it describes the token, never repeats it.
#[derive(Debug, Eq, PartialEq, thiserror::Error)]
pub enum TokenRejection {
    #[error("no bearer token")]
    Missing,
    #[error("more than one Authorization header")]
    SeveralHeaders,
    #[error("the Authorization header is not ASCII")]
    NotAscii,
    #[error("the Authorization scheme is not Bearer")]
    NotBearer,
    #[error("the bearer token is empty")]
    Empty,
    #[error("the bearer token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the token's header is malformed")]
    MalformedHeader,
    #[error("the token's algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(Algorithm),
    #[error("the token has no key id (kid)")]
    NoKeyId,
    #[error("the token's key id is not in the issuer's key set")]
    UnknownKeyId,
    #[error("the token's key is not for algorithm {0:?}")]
    KeyNotForAlgorithm(Algorithm),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token's claims are not a JSON object")]
    MalformedClaims,
    #[error("{0}")]
    Claim(#[from] ClaimError),
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
}
