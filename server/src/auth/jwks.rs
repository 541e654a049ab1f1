//! The issuer's signing keys (its JWKS), by key id.
//!
//! Keys are fetched at start and refreshed periodically in the background.
//! A token with an unknown `kid` triggers one refetch (key rotation works
//! without a restart), at most once per `refetch_interval`, so a flood of
//! forged key ids cannot turn into a flood of requests to the issuer. Until
//! the keys have been fetched once, no token can be verified: requests get
//! 503, not 401.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// How long a fetch of the JWKS may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the keys are refreshed when nothing asks for a new one.
const REFRESH_PERIOD: Duration = Duration::from_secs(300);

/// Where the keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    /// `{issuer}/.well-known/jwks.json` or any JWKS URL.
    Url(String),
    /// A JWKS document on disk (read again on every refresh).
    File(PathBuf),
    /// Keys known at start (the development issuer's).
    Static(JwkSet),
}

/// A key that verifies signatures.
pub struct VerificationKey {
    pub decoding: DecodingKey,
    /// The algorithm the JWKS pins the key to, if it does.
    pub algorithm: Option<Algorithm>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<VerificationKey>>,
    /// Whether a fetch has ever succeeded.
    loaded: bool,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

/// The keys of one issuer.
pub struct KeySet {
    source: JwksSource,
    http: reqwest::Client,
    refetch_interval: Duration,
    state: RwLock<State>,
    fetching: tokio::sync::Mutex<()>,
}

/// A JWKS document whose keys are parsed one by one, so that one key of an
/// unsupported type does not hide the others.
#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// A key set that fetches from `source`, refetching for an unknown key id
    /// at most once per `refetch_interval`.
    pub fn new(source: JwksSource, refetch_interval: Duration) -> KeySet {
        KeySet {
            source,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("a default reqwest client builds"),
            refetch_interval,
            state: RwLock::new(State::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// Fetches the keys now and keeps fetching them: every few minutes once
    /// they are loaded, with a growing delay while the issuer cannot be
    /// reached. The task ends when the key set is dropped.
    pub fn spawn_refresh(self: &Arc<KeySet>) -> tokio::task::JoinHandle<()> {
        let keys = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(250);
            loop {
                let Some(keys) = keys.upgrade() else { return };
                let delay = match keys.refresh().await {
                    Ok(()) => {
                        backoff = Duration::from_millis(250);
                        REFRESH_PERIOD
                    }
                    Err(_) => {
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        backoff
                    }
                };
                drop(keys);
                tokio::time::sleep(delay).await;
            }
        })
    }

    /// Whether keys have been loaded (so tokens can be verified).
    pub fn is_ready(&self) -> bool {
        self.state.read().expect("key state lock").loaded
    }

    /// The key with id `kid`; refetches the JWKS once (rate-limited) when
    /// the id is unknown. `Err` while no keys could ever be loaded.
    pub async fn key(&self, kid: &str) -> Result<Option<Arc<VerificationKey>>, String> {
        if let Some(key) = self.state.read().expect("key state lock").keys.get(kid) {
            return Ok(Some(key.clone()));
        }
        let _ = self.refetch_if_due().await;
        let state = self.state.read().expect("key state lock");
        if !state.loaded {
            return Err(state
                .last_error
                .clone()
                .unwrap_or_else(|| "not fetched yet".to_owned()));
        }
        Ok(state.keys.get(kid).cloned())
    }

    /// Refetches unless a fetch was attempted within `refetch_interval`.
    async fn refetch_if_due(&self) -> Result<(), String> {
        let _single_flight = self.fetching.lock().await;
        let due = self
            .state
            .read()
            .expect("key state lock")
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.refetch_interval);
        if due {
            self.fetch_and_store().await
        } else {
            Ok(())
        }
    }

    /// Fetches the keys now.
    pub async fn refresh(&self) -> Result<(), String> {
        let _single_flight = self.fetching.lock().await;
        self.fetch_and_store().await
    }

    async fn fetch_and_store(&self) -> Result<(), String> {
        let fetched = self.fetch().await;
        let mut state = self.state.write().expect("key state lock");
        state.last_attempt = Some(Instant::now());
        match fetched {
            Ok(keys) => {
                state.keys = keys;
                state.loaded = true;
                state.last_error = None;
                Ok(())
            }
            Err(error) => {
                state.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<VerificationKey>>, String> {
        let document: RawJwks = match &self.source {
            JwksSource::Url(url) => {
                let response = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| format!("fetching {url}: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("fetching {url}: status {}", response.status()));
                }
                response
                    .json()
                    .await
                    .map_err(|e| format!("{url} is not a JWKS: {e}"))?
            }
            JwksSource::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| format!("reading {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not a JWKS: {e}", path.display()))?
            }
            JwksSource::Static(set) => RawJwks {
                keys: set
                    .keys
                    .iter()
                    .map(|key| serde_json::to_value(key).expect("a JWK serializes"))
                    .collect(),
            },
        };
        Ok(document
            .keys
            .into_iter()
            .filter_map(verification_key)
            .collect())
    }
}

/// The usable signing key of one JWKS entry, by its key id; `None` for keys
/// without an id, for encryption keys and for key types we do not support.
fn verification_key(value: serde_json::Value) -> Option<(String, Arc<VerificationKey>)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    let kid = jwk.common.key_id.clone()?;
    // A shared secret has no place in a public key set.
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return None;
    }
    if matches!(jwk.common.public_key_use, Some(ref usage) if *usage != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(algorithm) => Some(Algorithm::try_from(algorithm).ok()?),
        None => None,
    };
    let decoding = DecodingKey::from_jwk(&jwk).ok()?;
    Some((
        kid,
        Arc::new(VerificationKey {
            decoding,
            algorithm,
        }),
    ))
}
