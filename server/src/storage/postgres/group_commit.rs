//! Group commit for single-run `PUT`s: a few worker tasks each take the
//! oldest waiting write plus every other write queued at that moment and
//! commit them in one transaction, so concurrent `PUT`s share a round trip
//! and a WAL flush instead of paying for one each. Each write is still
//! decided on its own, in arrival order, by `plan_writes` (as separate
//! transactions committed in that order would be), and no caller hears of
//! its write before the commit that holds it.

use std::sync::Arc;

use super::Connections;
use super::batches::{Batches, copy_of};
use crate::storage::{PutOutcome, PutRejection, RunWrite, StoreError};

/// Most writes one transaction takes from the queue.
const MAX_GROUP: usize = 256;

/// Most transactions of grouped writes at once: two, so that one group
/// forms while the other commits, and a transaction stuck on a row lock
/// does not stop every write. More workers make smaller groups: on two
/// cores, 16 concurrent `PUT`s ran 5–15% slower with three or four
/// (docs/BENCHMARKS.md).
const MAX_WORKERS: usize = 2;

/// The outcome of one write.
type Outcome = Result<Result<PutOutcome, PutRejection>, StoreError>;

/// The queue of the write workers, which stop once it is dropped.
pub(super) type GroupCommit = Batches<RunWrite, Result<PutOutcome, PutRejection>>;

/// Starts the write workers on the current tokio runtime: at most half of
/// a pool of `pool_size` connections (but one at least), so that reads
/// still find connections. Each write it is `call`ed with may be committed
/// in one transaction with the writes of other callers; dropping the call
/// leaves the write to its worker: it is then committed whole or not at
/// all.
pub(super) fn start(connections: Arc<Connections>, pool_size: usize) -> GroupCommit {
    let workers = (pool_size / 2).clamp(1, MAX_WORKERS);
    Batches::start("writes", workers, MAX_GROUP, move |writes, replies| {
        let connections = connections.clone();
        async move { replies.send_all(commit(connections, writes).await) }
    })
}

/// Commits `writes` in one transaction; the outcome of each.
///
/// If that transaction fails, nothing of it was written. A database that
/// is unavailable fails each write alike, as it would alone; any other
/// error may come from one write, so each is then tried alone, and the
/// failure reaches only the write that causes it.
async fn commit(connections: Arc<Connections>, writes: Vec<RunWrite>) -> Vec<Outcome> {
    match connections.put_runs(&writes).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(error) if writes.len() == 1 => vec![Err(error)],
        Err(error @ StoreError::Unavailable(_)) => {
            writes.iter().map(|_| Err(copy_of(&error))).collect()
        }
        Err(StoreError::Internal(_)) => {
            let mut outcomes = Vec::with_capacity(writes.len());
            for write in writes {
                let outcome = connections.put_runs(std::slice::from_ref(&write)).await;
                outcomes.push(outcome.map(|mut outcomes| outcomes.remove(0)));
            }
            outcomes
        }
    }
}
