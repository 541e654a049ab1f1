//! Verifying bearer JWTs.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, decode_header};
use serde_json::{Map, Value};

use super::bearer::MAX_TOKEN_BYTES;
use super::claims::AccessTokenClaims;
use super::{AuthError, KeySet, Principal, TokenCache, TokenRejection};

/// The algorithms a token may be signed with: the asymmetric ones only
/// (never `none`, never an HMAC, whose "secret" would be a public key).
const ALLOWED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// The exact `iss`.
    pub issuer: String,
    /// When set, `aud` must contain it; otherwise `aud` is not checked
    /// (Hydra sends a list, possibly empty; Kratos sends none).
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// How long a verified token is remembered at most.
    pub cache_ttl: Duration,
    /// How many verified tokens are remembered at most.
    pub cache_capacity: usize,
}

/// Verifies tokens of one issuer.
pub struct JwtVerifier {
    config: VerifierConfig,
    keys: Arc<KeySet>,
    cache: TokenCache,
}

impl JwtVerifier {
    pub fn new(config: VerifierConfig, keys: Arc<KeySet>) -> JwtVerifier {
        let cache = TokenCache::new(config.cache_capacity, config.cache_ttl);
        JwtVerifier {
            config,
            keys,
            cache,
        }
    }

    /// Whether the issuer's keys are loaded.
    pub fn is_ready(&self) -> bool {
        self.keys.is_ready()
    }

    /// How many verified tokens are cached.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// The principal of a valid token.
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        if let Some(principal) = self.cache.get(token) {
            return Ok(principal);
        }
        let principal = Arc::new(self.verify_signature_and_claims(token).await?);
        let now = chrono::Utc::now().timestamp();
        let remaining = u64::try_from(principal.expires_at - now).unwrap_or(0);
        self.cache
            .insert(token, principal.clone(), Duration::from_secs(remaining));
        Ok(principal)
    }

    /// Verifies without the cache: the signature with the issuer's key,
    /// then every claim this server reads, each of its exact type, before
    /// anyone looks up what the subject may do.
    pub async fn verify_signature_and_claims(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRejection::TooLong.into());
        }
        let header = decode_header(token).map_err(|_| TokenRejection::MalformedHeader)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(TokenRejection::AlgorithmNotAllowed(header.alg).into());
        }
        let kid = header.kid.as_deref().ok_or(TokenRejection::NoKeyId)?;
        let key = self
            .keys
            .key(kid)
            .await
            .map_err(AuthError::KeysUnavailable)?
            .ok_or(TokenRejection::UnknownKeyId)?;
        if key.algorithm.is_some_and(|pinned| pinned != header.alg) {
            return Err(TokenRejection::KeyNotForAlgorithm(header.alg).into());
        }
        // The library checks the signature only: its own reading of the
        // registered claims is lenient, so the payload is read here.
        let (message, signature) = token
            .rsplit_once('.')
            .ok_or(TokenRejection::MalformedHeader)?;
        let verified =
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.decoding, header.alg)
                .map_err(|error| signature_rejection(error.kind(), header.alg))?;
        if !verified {
            return Err(TokenRejection::BadSignature.into());
        }
        let payload = message
            .split_once('.')
            .and_then(|(_, payload)| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|json| serde_json::from_slice::<Map<String, Value>>(&json).ok())
            .ok_or(TokenRejection::MalformedClaims)?;
        let claims = AccessTokenClaims::read(&payload).map_err(TokenRejection::Claim)?;
        self.check(&claims, chrono::Utc::now().timestamp())?;
        Ok(Principal {
            subject: claims.subject,
            scopes: claims.scopes,
            expires_at: claims.expires_at,
        })
    }

    /// Whether well-typed `claims` are for this server at `now`.
    fn check(&self, claims: &AccessTokenClaims, now: i64) -> Result<(), TokenRejection> {
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if claims.issuer != self.config.issuer {
            return Err(TokenRejection::WrongIssuer);
        }
        if let Some(audience) = &self.config.audience
            && !claims.audience.contains(audience)
        {
            return Err(TokenRejection::WrongAudience);
        }
        if claims.expires_at < now.saturating_sub(leeway) {
            return Err(TokenRejection::Expired);
        }
        if claims
            .not_before
            .is_some_and(|not_before| not_before > now.saturating_add(leeway))
        {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }
}

/// Why the library could not check the signature of a token whose header
/// and key were acceptable.
fn signature_rejection(kind: &ErrorKind, algorithm: Algorithm) -> TokenRejection {
    match kind {
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_) => TokenRejection::KeyNotForAlgorithm(algorithm),
        _ => TokenRejection::BadSignature,
    }
}
