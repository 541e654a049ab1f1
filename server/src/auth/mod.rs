//! Authentication and authorization.
//!
//! Bearer JWTs as Ory Hydra (`strategies.access_token: jwt`) and Ory Kratos
//! (`tokenize_as`) issue them are verified against the issuer's JWKS
//! ([`JwtVerifier`]); who may do what comes from the memberships in the
//! database ([`authorize`]). A development issuer ([`DevIssuer`]) lets the
//! server sign its own tokens when there is no identity provider.

mod access;
mod bearer;
mod dev_issuer;
mod jwks;
mod membership_cache;
mod principal;
mod signing_key;
mod token_cache;
mod verifier;

pub use access::{Access, Denied, WRITE_SCOPE, authorize};
pub use bearer::bearer_token;
pub use dev_issuer::{DEV_ISSUER, DevIssuer, TokenRequest};
pub use jwks::{JwksSource, KeySet};
pub use membership_cache::MembershipCache;
pub use principal::Principal;
pub use signing_key::SigningKey;
pub use token_cache::TokenCache;
pub use verifier::{JwtVerifier, VerifierConfig};

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No usable bearer token, or one that fails verification: 401.
    #[error("{0}")]
    Invalid(String),
    /// The issuer's keys cannot be fetched, so no token can be verified: 503.
    #[error("the token issuer's keys are unavailable: {0}")]
    Unavailable(String),
}
