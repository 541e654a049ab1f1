//! Group commit for single-run `PUT`s: a few worker tasks each take the
//! oldest waiting write plus every other write queued at that moment and
//! commit them in one transaction, so concurrent `PUT`s share a round trip
//! and a WAL flush instead of paying for one each. Each write is still
//! decided on its own, in arrival order, by `plan_writes` (as separate
//! transactions committed in that order would be), and no caller hears of
//! its write before the commit that holds it.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::Connections;
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

/// A write waiting for a worker, and where its outcome goes.
struct Job {
    write: RunWrite,
    reply: oneshot::Sender<Outcome>,
}

/// The queue of the workers, which stop once it is dropped.
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the workers on the current tokio runtime: at most half of a
    /// pool of `pool_size` connections (but one at least), so that reads
    /// still find connections.
    pub(super) fn start(connections: Arc<Connections>, pool_size: usize) -> GroupCommit {
        let (jobs, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..(pool_size / 2).clamp(1, MAX_WORKERS) {
            tokio::spawn(work(connections.clone(), queue.clone()));
        }
        GroupCommit { jobs }
    }

    /// Creates or replaces one run, possibly in one transaction with the
    /// writes of other callers. Dropping the future leaves the write to
    /// its worker: it is then committed whole or not at all.
    pub(super) async fn put_run(&self, write: RunWrite) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Internal(anyhow::anyhow!("the PostgreSQL group commit stopped"))
}

/// A worker: takes a group from the queue and commits it, until the queue
/// is closed.
async fn work(connections: Arc<Connections>, queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>) {
    loop {
        let mut jobs = Vec::new();
        {
            // One worker at a time waits for the queue; the others are
            // committing, and whatever arrives meanwhile forms the next group.
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut jobs, MAX_GROUP).await == 0 {
                return;
            }
        }
        // A caller that went away needs no answer, and its write is absent.
        jobs.retain(|job| !job.reply.is_closed());
        if !jobs.is_empty() {
            commit(&connections, jobs).await;
        }
    }
}

/// Commits `jobs` in one transaction and answers each with its outcome.
///
/// If that transaction fails, nothing of it was written. A database that
/// is unavailable fails each write alike, as it would alone; any other
/// error may come from one write, so each is then tried alone, and the
/// failure reaches only the write that causes it.
async fn commit(connections: &Connections, jobs: Vec<Job>) {
    let (writes, replies): (Vec<RunWrite>, Vec<_>) =
        jobs.into_iter().map(|job| (job.write, job.reply)).unzip();
    match connections.put_runs(&writes).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) if writes.len() == 1 => {
            let _ = replies
                .into_iter()
                .next()
                .map(|reply| reply.send(Err(error)));
        }
        Err(StoreError::Unavailable(error)) => {
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(anyhow::anyhow!("{error:#}"))));
            }
        }
        Err(StoreError::Internal(_)) => {
            for (write, reply) in writes.into_iter().zip(replies) {
                let outcome = connections.put_runs(std::slice::from_ref(&write)).await;
                let _ = reply.send(outcome.map(|mut outcomes| outcomes.remove(0)));
            }
        }
    }
}
