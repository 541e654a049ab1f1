//! The cursor key a replica signs and checks cursors with: the database's
//! current key, held in memory and read again when it may have changed, so
//! that a rotation reaches every replica without a restart, and a list
//! request does not query the database for it.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::CursorKey;
use crate::storage::{CursorKeyStore, StoreError};

/// How long a replica uses the key it read before reading it again. After a
/// rotation, a replica goes on issuing and accepting cursors of the old key
/// for at most this long, or until it sees a cursor of the new one.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The current cursor key, as last read from the database.
pub struct CursorKeyHolder {
    store: Arc<dyn CursorKeyStore>,
    refresh_every: Duration,
    held: RwLock<Option<Held>>,
    /// Taken while the key is read, so that the requests that need a new
    /// read at once share one.
    reading: tokio::sync::Mutex<()>,
}

struct Held {
    key: Arc<CursorKey>,
    read_at: Instant,
}

impl CursorKeyHolder {
    /// A holder of the key of `store`, read again every `refresh_every`
    /// (and first on the first request, so that a server starts while its
    /// database is down).
    pub fn new(store: Arc<dyn CursorKeyStore>, refresh_every: Duration) -> CursorKeyHolder {
        CursorKeyHolder {
            store,
            refresh_every,
            held: RwLock::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The key to check a cursor issued under key `cursor_key_id` with, and
    /// to issue the next cursors under (`None`: there is no cursor to
    /// check). The database's key is read first when none is held, when the
    /// one held is older than the refresh interval, or when the cursor names
    /// a newer key (another replica has seen a rotation already).
    ///
    /// A client can name a made-up newer key: that costs one read of a tiny
    /// table per such request, one at a time, less than the list it asks for.
    pub async fn key(&self, cursor_key_id: Option<u32>) -> Result<Arc<CursorKey>, StoreError> {
        let usable = |held: &Held| {
            held.read_at.elapsed() < self.refresh_every
                && cursor_key_id.is_none_or(|id| id <= held.key.id())
        };
        if let Some(key) = self.held(usable) {
            return Ok(key);
        }
        let asked = Instant::now();
        let _single_flight = self.reading.lock().await;
        // What was read while this request waited is as new as what it
        // would read itself.
        if let Some(key) = self.held(|held| held.read_at >= asked || usable(held)) {
            return Ok(key);
        }
        let stored = self.store.cursor_key().await?;
        let key = Arc::new(CursorKey::new(stored.id, &stored.secret));
        *self.held.write().expect("cursor key lock") = Some(Held {
            key: key.clone(),
            read_at: Instant::now(),
        });
        Ok(key)
    }

    /// The key held, if `usable` says it may be used.
    fn held(&self, usable: impl Fn(&Held) -> bool) -> Option<Arc<CursorKey>> {
        self.held
            .read()
            .expect("cursor key lock")
            .as_ref()
            .filter(|held| usable(held))
            .map(|held| held.key.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::storage::{NewCursorKey, StoredCursorKey};

    /// One key in memory, counting how often it is read.
    struct Store {
        key: Mutex<StoredCursorKey>,
        reads: AtomicUsize,
        read_time: Duration,
    }

    impl Store {
        fn new(read_time: Duration) -> Arc<Store> {
            Arc::new(Store {
                key: Mutex::new(StoredCursorKey {
                    id: 1,
                    secret: vec![1; 32],
                }),
                reads: AtomicUsize::new(0),
                read_time,
            })
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl CursorKeyStore for Store {
        async fn newest_cursor_key(&self) -> Result<Option<StoredCursorKey>, StoreError> {
            tokio::time::sleep(self.read_time).await;
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(self.key.lock().unwrap().clone()))
        }

        async fn store_cursor_key(
            &self,
            _: NewCursorKey,
            secret: Vec<u8>,
        ) -> Result<Option<StoredCursorKey>, StoreError> {
            let mut key = self.key.lock().unwrap();
            *key = StoredCursorKey {
                id: key.id + 1,
                secret,
            };
            Ok(Some(key.clone()))
        }
    }

    #[tokio::test]
    async fn the_key_is_read_once_and_then_held() {
        let store = Store::new(Duration::ZERO);
        let holder = CursorKeyHolder::new(store.clone(), REFRESH_EVERY);
        for _ in 0..5 {
            assert_eq!(holder.key(None).await.unwrap().id(), 1);
            assert_eq!(holder.key(Some(1)).await.unwrap().id(), 1);
        }
        assert_eq!(store.reads(), 1);
    }

    #[tokio::test]
    async fn a_cursor_of_a_newer_key_makes_the_holder_read_it() {
        let store = Store::new(Duration::ZERO);
        let holder = CursorKeyHolder::new(store.clone(), REFRESH_EVERY);
        holder.key(None).await.unwrap();
        store.rotate_cursor_key().await.unwrap();
        assert_eq!(holder.key(None).await.unwrap().id(), 1, "held");
        assert_eq!(holder.key(Some(1)).await.unwrap().id(), 1, "held");
        assert_eq!(holder.key(Some(2)).await.unwrap().id(), 2);
        assert_eq!(holder.key(None).await.unwrap().id(), 2);
        assert_eq!(store.reads(), 2);
        assert_eq!(
            holder.key(Some(9)).await.unwrap().id(),
            2,
            "a key that does not exist"
        );
    }

    #[tokio::test]
    async fn the_key_is_read_again_after_the_refresh_interval() {
        let store = Store::new(Duration::ZERO);
        let refresh = Duration::from_millis(200);
        let holder = CursorKeyHolder::new(store.clone(), refresh);
        holder.key(None).await.unwrap();
        store.rotate_cursor_key().await.unwrap();
        assert_eq!(holder.key(None).await.unwrap().id(), 1);
        tokio::time::sleep(refresh).await;
        assert_eq!(holder.key(None).await.unwrap().id(), 2);
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test]
    async fn requests_that_need_a_read_at_once_share_it() {
        let store = Store::new(Duration::from_millis(50));
        let holder = CursorKeyHolder::new(store.clone(), REFRESH_EVERY);
        let keys = futures::future::join_all((0..8).map(|_| holder.key(Some(5)))).await;
        assert!(keys.iter().all(|key| key.as_ref().unwrap().id() == 1));
        assert_eq!(store.reads(), 1);
    }
}
