//! The one writer of a SQLite file: a thread that owns the write connection
//! and takes work from a queue, committing the runs of every write waiting
//! at that moment in one transaction (group commit). Each commit is synced
//! to disk, so a batch of concurrent `PUT`s pays for one sync instead of one
//! each, and no write is acknowledged before the commit that holds it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::anchor::{RENEW_EVERY, ReadAnchor};
use super::write_runs;
use crate::storage::{PutOutcome, PutRejection, RunWrite, StoreError};

/// Most writes one transaction takes from the queue at once (a batch a
/// single caller sends is never split).
const MAX_GROUP: usize = 256;

/// The outcome of each write of a batch, in order.
type Outcomes = Result<Vec<Result<PutOutcome, PutRejection>>, StoreError>;

/// Work that is not a write of runs: given the write connection, or the
/// reason it is not run.
type Work = Box<dyn FnOnce(Result<&mut Connection, StoreError>) + Send>;

/// Work for the writer.
enum Job {
    /// Runs to create or replace, which may share a transaction with the
    /// runs of other jobs.
    Runs {
        writes: Vec<RunWrite>,
        reply: oneshot::Sender<Outcomes>,
    },
    /// Anything else, alone.
    Other(Work),
}

/// A job in the queue, and until when it may start.
struct Queued {
    job: Job,
    deadline: Instant,
}

impl Queued {
    /// The job, unless it waited too long: then its caller is told so, and
    /// nothing is run.
    fn unexpired(self) -> Option<Job> {
        if Instant::now() <= self.deadline {
            return Some(self.job);
        }
        match self.job {
            Job::Runs { reply, .. } => {
                let _ = reply.send(Err(expired()));
            }
            Job::Other(work) => work(Err(expired())),
        }
        None
    }
}

/// The queue of the writer thread.
pub(super) struct Writer {
    jobs: Sender<Queued>,
    busy: Arc<AtomicBool>,
    /// How long a job may wait in the queue: one that waited longer is not
    /// run, and its caller gets `Unavailable` (so that an error always means
    /// nothing was written).
    wait: Duration,
}

impl Writer {
    /// Starts the thread that writes through `connection` and holds a read
    /// transaction on `anchor` while it has nothing to write.
    pub(super) fn start(
        connection: Connection,
        anchor: Connection,
        wait: Duration,
    ) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        let busy = Arc::new(AtomicBool::new(false));
        let flag = busy.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let anchor = ReadAnchor::new(anchor, &connection);
                serve(connection, anchor, &queue, &flag);
            })?;
        Ok(Writer { jobs, busy, wait })
    }

    /// Whether the writer is running a job now (for the pool metrics).
    pub(super) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed)
    }

    /// Creates or replaces `writes`, possibly in one transaction with the
    /// writes of other callers.
    pub(super) async fn put_runs(&self, writes: Vec<RunWrite>) -> Outcomes {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Runs { writes, reply })?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs `work` on the write connection, alone.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Other(Box::new(move |connection| {
            // The caller may be gone; then nobody needs the answer.
            let _ = reply.send(connection.and_then(work));
        })))?;
        answer.await.map_err(|_| stopped())?
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.wait;
        self.jobs
            .send(Queued { job, deadline })
            .map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Internal(anyhow::anyhow!("the SQLite writer thread stopped"))
}

fn expired() -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!(
        "waited too long for the SQLite writer; nothing was written"
    ))
}

/// The writer thread: until every [`Writer`] handle is gone.
fn serve(
    mut connection: Connection,
    mut anchor: ReadAnchor,
    queue: &Receiver<Queued>,
    busy: &AtomicBool,
) {
    let mut held = None;
    while let Some(queued) = next_job(queue, &mut held, &mut anchor, &connection) {
        anchor.release();
        let Some(job) = queued.unexpired() else {
            continue;
        };
        busy.store(true, Ordering::Relaxed);
        match job {
            Job::Other(work) => work(Ok(&mut connection)),
            Job::Runs { writes, reply } => {
                let mut group = Group::default();
                group.add(writes, reply);
                // Everything that queued up during the previous commit joins
                // this one, up to MAX_GROUP writes; other work waits for it.
                while group.writes.len() < MAX_GROUP {
                    match queue.try_recv() {
                        Ok(queued) if matches!(queued.job, Job::Runs { .. }) => {
                            if let Some(Job::Runs { writes, reply }) = queued.unexpired() {
                                group.add(writes, reply);
                            }
                        }
                        Ok(other) => {
                            held = Some(other);
                            break;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                group.commit(&mut connection);
            }
        }
        busy.store(false, Ordering::Relaxed);
    }
}

/// The job held back from the last group, else the next in the queue; while
/// the queue is empty, `anchor` holds a read transaction (renewed while
/// the wait lasts) unless another process is writing. `None` once every
/// [`Writer`] handle is gone.
fn next_job(
    queue: &Receiver<Queued>,
    held: &mut Option<Queued>,
    anchor: &mut ReadAnchor,
    connection: &Connection,
) -> Option<Queued> {
    if let Some(queued) = held.take() {
        return Some(queued);
    }
    match queue.try_recv() {
        Ok(queued) => return Some(queued),
        Err(TryRecvError::Disconnected) => return None,
        Err(TryRecvError::Empty) => {}
    }
    anchor.hold(connection);
    loop {
        match queue.recv_timeout(RENEW_EVERY) {
            Ok(queued) => return Some(queued),
            Err(RecvTimeoutError::Timeout) => anchor.renew(connection),
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The writes of the jobs that share a transaction, in the order they
/// came, and for each job how many of them are its own.
#[derive(Default)]
struct Group {
    writes: Vec<RunWrite>,
    jobs: Vec<(usize, oneshot::Sender<Outcomes>)>,
}

impl Group {
    fn add(&mut self, writes: Vec<RunWrite>, reply: oneshot::Sender<Outcomes>) {
        self.jobs.push((writes.len(), reply));
        self.writes.extend(writes);
    }

    /// Commits the writes in one transaction and answers each job with its
    /// outcomes. If that transaction fails, each job is tried alone, so that
    /// a failure reaches only the job that causes it.
    fn commit(self, connection: &mut Connection) {
        if self.jobs.len() > 1
            && let Ok(outcomes) = write_runs(connection, &self.writes)
        {
            let mut outcomes = outcomes.into_iter();
            for (count, reply) in self.jobs {
                let _ = reply.send(Ok(outcomes.by_ref().take(count).collect()));
            }
            return;
        }
        let mut start = 0;
        for (count, reply) in self.jobs {
            let _ = reply.send(write_runs(connection, &self.writes[start..start + count]));
            start += count;
        }
    }
}
