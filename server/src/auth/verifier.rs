//! Verifying bearer JWTs.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;

use super::bearer::MAX_TOKEN_BYTES;
use super::{AuthError, KeySet, Principal, TokenCache};

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

/// The claims this server reads; `iss`, `aud`, `exp` and `nbf` are checked by
/// the JWT library.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    /// Hydra's scopes: a list (some issuers send a space-separated string).
    #[serde(default)]
    scp: Option<Scopes>,
    /// The OAuth 2.0 `scope` claim: space-separated.
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
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

    /// Verifies without the cache.
    pub async fn verify_signature_and_claims(&self, token: &str) -> Result<Principal, AuthError> {
        let invalid = |why: String| AuthError::Invalid(format!("invalid bearer token: {why}"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid(format!("longer than {MAX_TOKEN_BYTES} bytes")));
        }
        let header =
            decode_header(token).map_err(|error| invalid(format!("malformed header ({error})")))?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| invalid("no key id (kid)".to_owned()))?;
        let key = self
            .keys
            .key(kid)
            .await
            .map_err(AuthError::Unavailable)?
            .ok_or_else(|| invalid(format!("unknown key id {kid:?}")))?;
        if key.algorithm.is_some_and(|pinned| pinned != header.alg) {
            return Err(invalid(format!(
                "key {kid:?} is not for algorithm {:?}",
                header.alg
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        match &self.config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                // Without this a token with no `aud` at all would pass.
                validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            }
            None => {
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["exp", "iss", "sub"]);
            }
        }
        let claims = decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|error| invalid(describe(error.kind())))?
            .claims;
        if claims.sub.is_empty() || claims.sub.contains('\0') {
            return Err(invalid("the subject is empty or contains NUL".to_owned()));
        }
        let mut scopes: Vec<String> = match claims.scp {
            Some(Scopes::List(list)) => list,
            Some(Scopes::Text(text)) => text.split_whitespace().map(str::to_owned).collect(),
            None => Vec::new(),
        };
        scopes.extend(
            claims
                .scope
                .iter()
                .flat_map(|text| text.split_whitespace().map(str::to_owned)),
        );
        Ok(Principal {
            subject: claims.sub,
            scopes,
            expires_at: claims.exp,
        })
    }
}

/// Says why a token failed, without echoing it.
fn describe(kind: &jsonwebtoken::errors::ErrorKind) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidSignature => "bad signature".to_owned(),
        ErrorKind::ExpiredSignature => "expired".to_owned(),
        ErrorKind::ImmatureSignature => "not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidIssuer => "wrong issuer".to_owned(),
        ErrorKind::InvalidAudience => "wrong audience".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("no {claim} claim"),
        ErrorKind::InvalidAlgorithm => "the key does not match the algorithm".to_owned(),
        ErrorKind::InvalidKeyFormat | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) => {
            "the key does not match the algorithm".to_owned()
        }
        ErrorKind::Json(_) => "malformed claims".to_owned(),
        other => format!("{other:?}"),
    }
}
