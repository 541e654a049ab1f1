//! Memberships looked up recently, remembered for a few seconds, so that
//! the hot path does not ask the database who may read an organization on
//! every request (on PostgreSQL that is a round trip of its own).
//!
//! The price is staleness: a membership added, changed or removed takes
//! effect within the time-to-live (`--membership-cache-secs`, 0 turns the
//! cache off), on every replica.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use quick_cache::Equivalent;
use uuid::Uuid;

use crate::storage::{MembershipStore, Role, StoreError};

/// An organization and a subject: the key of a cached role.
#[derive(Clone, Debug, Eq, PartialEq)]
struct MemberKey {
    org_id: Uuid,
    subject: String,
}

/// A borrowed [`MemberKey`], to look entries up without allocating.
struct MemberRef<'a> {
    org_id: Uuid,
    subject: &'a str,
}

// Both keys hash the same fields in the same order, as `Equivalent` needs.
impl Hash for MemberKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.org_id.hash(state);
        self.subject.as_str().hash(state);
    }
}

impl Hash for MemberRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.org_id.hash(state);
        self.subject.hash(state);
    }
}

impl Equivalent<MemberKey> for MemberRef<'_> {
    fn equivalent(&self, key: &MemberKey) -> bool {
        self.org_id == key.org_id && self.subject == key.subject
    }
}

/// A bounded cache of roles (and of non-membership).
pub struct MembershipCache {
    entries: quick_cache::sync::Cache<MemberKey, (Option<Role>, Instant)>,
    ttl: Duration,
}

impl MembershipCache {
    /// A cache of at most `capacity` memberships, each kept for `ttl` (zero
    /// keeps none).
    pub fn new(capacity: usize, ttl: Duration) -> MembershipCache {
        MembershipCache {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            ttl,
        }
    }

    /// The role of `subject` in `org_id` (`None`: not a member), from the
    /// cache while fresh, else from `store`.
    pub async fn role(
        &self,
        store: &dyn MembershipStore,
        org_id: Uuid,
        subject: &str,
    ) -> Result<Option<Role>, StoreError> {
        let key = MemberRef { org_id, subject };
        if let Some((role, fresh_until)) = self.entries.get(&key)
            && Instant::now() < fresh_until
        {
            return Ok(role);
        }
        let role = store.role(org_id, subject).await?;
        if !self.ttl.is_zero() {
            let key = MemberKey {
                org_id,
                subject: subject.to_owned(),
            };
            self.entries.insert(key, (role, Instant::now() + self.ttl));
        }
        Ok(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database_url::DEFAULT_SQLITE_MMAP_SIZE;
    use crate::storage::{Membership, SqliteStore};

    #[tokio::test]
    async fn a_change_is_seen_once_the_cached_role_is_stale() {
        let directory = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(&directory.path().join("runs.db"), DEFAULT_SQLITE_MMAP_SIZE).unwrap();
        let org = Uuid::new_v4();
        let cached = MembershipCache::new(10, Duration::from_millis(300));
        let uncached = MembershipCache::new(10, Duration::ZERO);
        assert_eq!(cached.role(&store, org, "ann").await.unwrap(), None);

        let membership = Membership {
            org_id: org,
            subject: "ann".to_owned(),
            role: Role::Reader,
        };
        store.put_member(&membership).await.unwrap();
        assert_eq!(
            uncached.role(&store, org, "ann").await.unwrap(),
            Some(Role::Reader)
        );
        assert_eq!(
            cached.role(&store, org, "ann").await.unwrap(),
            None,
            "remembered for the time-to-live"
        );
        assert_eq!(cached.role(&store, org, "bob").await.unwrap(), None);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            cached.role(&store, org, "ann").await.unwrap(),
            Some(Role::Reader)
        );
    }
}
