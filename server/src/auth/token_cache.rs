//! Verified tokens, remembered briefly so that the hot path does not verify
//! the same signature on every request.
//!
//! Entries are keyed by a SHA-256 of the token (the cache never holds a
//! token itself) and are used until the earlier of the token's expiry and a
//! short time-to-live, so a key removed from the issuer's JWKS stops
//! accepting tokens within that time once the key set has been refreshed
//! (periodically, or on an unknown `kid`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Principal;

/// A bounded cache of verified tokens.
pub struct TokenCache {
    entries: quick_cache::sync::Cache<[u8; 32], (Arc<Principal>, Instant)>,
    ttl: Duration,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens, each kept at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> TokenCache {
        TokenCache {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            ttl,
        }
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The principal of `token` if it was verified and is still fresh.
    pub fn get(&self, token: &str) -> Option<Arc<Principal>> {
        let key = TokenCache::key(token);
        let (principal, valid_until) = self.entries.get(&key)?;
        if Instant::now() < valid_until {
            Some(principal)
        } else {
            self.entries.remove(&key);
            None
        }
    }

    /// Remembers a verified token that stays valid for `remaining`.
    pub fn insert(&self, token: &str, principal: Arc<Principal>, remaining: Duration) {
        let keep = remaining.min(self.ttl);
        if !keep.is_zero() {
            self.entries
                .insert(TokenCache::key(token), (principal, Instant::now() + keep));
        }
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Arc<Principal> {
        Arc::new(Principal {
            subject: "s".into(),
            scopes: vec![],
            expires_at: 0,
        })
    }

    #[test]
    fn entries_expire_at_the_earlier_of_the_token_and_the_ttl() {
        let cache = TokenCache::new(10, Duration::from_millis(50));
        cache.insert("long-lived", principal(), Duration::from_secs(3600));
        cache.insert("expiring", principal(), Duration::from_millis(1));
        cache.insert("expired", principal(), Duration::ZERO);
        assert!(cache.get("long-lived").is_some());
        assert!(cache.get("expired").is_none());
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            cache.get("expiring").is_none(),
            "the token's own expiry wins"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("long-lived").is_none(), "the time-to-live wins");
        assert!(cache.get("never-seen").is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = TokenCache::new(100, Duration::from_secs(60));
        for i in 0..1_000 {
            cache.insert(&format!("token-{i}"), principal(), Duration::from_secs(60));
        }
        assert!(cache.len() <= 100, "{}", cache.len());
    }
}
