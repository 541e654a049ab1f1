//! The secret that keys list cursors (see [`crate::cursor`]): kept in the
//! database, so that every replica signs and checks cursors with the same
//! one; made by the server itself the first time one is needed, and
//! replaced by `cursor-key rotate`.
//!
//! The backends only run the statements here; making a secret and the order
//! of the steps are the same for both.

use std::fmt;

use async_trait::async_trait;

use super::StoreError;

/// Bytes of a new secret: the output size of SHA-256, as RFC 2104 advises
/// for an HMAC key.
const SECRET_BYTES: usize = 32;

/// A cursor key as stored.
#[derive(Clone, Eq, PartialEq)]
pub struct StoredCursorKey {
    /// One more than the key it replaced, so that a cursor's key id tells
    /// "issued under an older key" from "corrupt".
    pub id: u32,
    pub secret: Vec<u8>,
}

// The secret stays out of logs.
impl fmt::Debug for StoredCursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCursorKey")
            .field("id", &self.id)
            .finish()
    }
}

/// Which key a new secret becomes.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum NewCursorKey {
    /// The first key, unless there is one already (then nothing is stored,
    /// so replicas that start at once all use the one stored first).
    First,
    /// The key after the newest, which replaces it.
    Next,
}

impl NewCursorKey {
    /// The statement that stores the secret, `$1`. (SQLite reads `$1` as the
    /// parameter named "$1", the first, so one text serves both backends.
    /// Its `INSERT ... SELECT` needs a `WHERE` before `ON CONFLICT`.)
    pub(super) fn insert_sql(self) -> &'static str {
        match self {
            NewCursorKey::First => {
                "INSERT INTO cursor_keys (id, secret) SELECT 1, $1 \
                 WHERE NOT EXISTS (SELECT 1 FROM cursor_keys) ON CONFLICT DO NOTHING"
            }
            // Of two rotations at once, the second stores nothing and both
            // end with the first one's key.
            NewCursorKey::Next => {
                "INSERT INTO cursor_keys (id, secret) SELECT COALESCE(MAX(id), 0) + 1, $1 \
                 FROM cursor_keys WHERE true ON CONFLICT DO NOTHING"
            }
        }
    }
}

/// Deletes the keys a rotation replaced: no cursor of theirs is accepted
/// any more, so their secrets need not be kept.
pub(super) const DELETE_REPLACED: &str =
    "DELETE FROM cursor_keys WHERE id < (SELECT MAX(id) FROM cursor_keys)";

/// The current key: the newest.
pub(super) const SELECT_NEWEST: &str =
    "SELECT id, secret FROM cursor_keys ORDER BY id DESC LIMIT 1";

/// A key as `SELECT_NEWEST` reads it.
pub(super) fn stored_key(id: i64, secret: Vec<u8>) -> Result<StoredCursorKey, StoreError> {
    let id = u32::try_from(id).map_err(|_| {
        StoreError::Internal(anyhow::anyhow!(
            "stored cursor key has id {id}, out of range"
        ))
    })?;
    Ok(StoredCursorKey { id, secret })
}

/// The keys of list cursors.
#[async_trait]
pub trait CursorKeyStore: Send + Sync + 'static {
    /// The current key; the first one is made and stored if there is none.
    async fn cursor_key(&self) -> Result<StoredCursorKey, StoreError> {
        match self.newest_cursor_key().await? {
            Some(key) => Ok(key),
            None => stored(
                self.store_cursor_key(NewCursorKey::First, new_secret()?)
                    .await?,
            ),
        }
    }

    /// Replaces the current key with a new one, the next id; the new key.
    async fn rotate_cursor_key(&self) -> Result<StoredCursorKey, StoreError> {
        stored(
            self.store_cursor_key(NewCursorKey::Next, new_secret()?)
                .await?,
        )
    }

    /// The newest stored key, if any (the backend's part).
    async fn newest_cursor_key(&self) -> Result<Option<StoredCursorKey>, StoreError>;

    /// In one transaction: stores `secret` as `which` says (with its
    /// `insert_sql`), deletes the keys it replaced (`DELETE_REPLACED`), and
    /// reads the newest key (`SELECT_NEWEST`) (the backend's part).
    async fn store_cursor_key(
        &self,
        which: NewCursorKey,
        secret: Vec<u8>,
    ) -> Result<Option<StoredCursorKey>, StoreError>;
}

/// The newest key just after storing one: there is one.
fn stored(newest: Option<StoredCursorKey>) -> Result<StoredCursorKey, StoreError> {
    newest.ok_or_else(|| StoreError::Internal(anyhow::anyhow!("the cursor key stored is gone")))
}

/// A new secret from the system's CSPRNG.
fn new_secret() -> Result<Vec<u8>, StoreError> {
    let mut secret = vec![0; SECRET_BYTES];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| {
        StoreError::Internal(anyhow::anyhow!(
            "the system's random number generator failed"
        ))
    })?;
    Ok(secret)
}
