//! Authentication and authorization.
//!
//! Bearer JWTs as Ory Hydra (`strategies.access_token: jwt`) and Ory Kratos
//! (`tokenize_as`) issue them are verified against the issuer's JWKS
//! ([`JwtVerifier`]); who may do what comes from the memberships in the
//! database ([`authorize`]). A development issuer ([`DevIssuer`]) lets the
//! server sign its own tokens when there is no identity provider.

mod access;
mod bearer;
mod claims;
mod dev_issuer;
mod error;
mod jwks;
mod membership_cache;
mod principal;
mod signing_key;
mod token_cache;
mod verifier;

pub use access::{Access, Denied, WRITE_SCOPE, authorize};
pub use bearer::bearer_token;
pub use dev_issuer::{DEV_ISSUER, DevIssuer, TokenRequest};
pub use error::{AuthError, TokenRejection};
pub use jwks::{JwksSource, KeySet};
pub use membership_cache::MembershipCache;
pub use principal::Principal;
pub use signing_key::SigningKey;
pub use token_cache::TokenCache;
pub use verifier::{JwtVerifier, VerifierConfig};
