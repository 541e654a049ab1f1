//! Requests of concurrent callers answered together: a few worker tasks
//! each take the oldest waiting request plus every other one queued at that
//! moment, and answer them all with one statement or transaction, so that
//! concurrent callers share a round trip (and, for writes, a WAL flush)
//! instead of paying for one each. A caller alone is answered at once: no
//! worker waits for a batch to fill, and a caller whose answer is ready is
//! answered before the rest of its batch is.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::storage::StoreError;

/// A request waiting for a worker, and where its answer goes.
struct Job<Request, Answer> {
    request: Request,
    reply: oneshot::Sender<Result<Answer, StoreError>>,
}

/// Where the answers to one batch go, by the place of each request in it.
pub(super) struct Replies<Answer> {
    senders: Vec<Option<oneshot::Sender<Result<Answer, StoreError>>>>,
}

impl<Answer> Replies<Answer> {
    /// Answers the request at `place` in the batch, unless it has its
    /// answer already. A request left unanswered fails as if the workers
    /// had stopped.
    pub(super) fn send(&mut self, place: usize, answer: Result<Answer, StoreError>) {
        if let Some(reply) = self.senders.get_mut(place).and_then(Option::take) {
            let _ = reply.send(answer);
        }
    }

    /// Answers every request of the batch still waiting with `answer`.
    pub(super) fn send_rest(&mut self, answer: impl Fn() -> Result<Answer, StoreError>) {
        for reply in self.senders.iter_mut().filter_map(Option::take) {
            let _ = reply.send(answer());
        }
    }

    /// Answers the requests in order, one answer each.
    pub(super) fn send_all(mut self, answers: Vec<Result<Answer, StoreError>>) {
        for (place, answer) in answers.into_iter().enumerate() {
            self.send(place, answer);
        }
    }
}

/// The queue of the workers, which stop once it is dropped.
pub(super) struct Batches<Request, Answer> {
    jobs: mpsc::UnboundedSender<Job<Request, Answer>>,
    /// What the requests are, to name them if the workers stopped.
    what: &'static str,
}

impl<Request, Answer> Batches<Request, Answer>
where
    Request: Send + 'static,
    Answer: Send + 'static,
{
    /// Starts `workers` workers on the current tokio runtime; each hands
    /// batches of at most `most` requests to `answer`, which sends one
    /// answer (or failure) per request to the batch's [`Replies`].
    pub(super) fn start<Answering, Answers>(
        what: &'static str,
        workers: usize,
        most: usize,
        answer: Answering,
    ) -> Batches<Request, Answer>
    where
        Answering: Fn(Vec<Request>, Replies<Answer>) -> Answers + Send + Sync + 'static,
        Answers: Future<Output = ()> + Send + 'static,
    {
        let (jobs, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(queue));
        let answer = Arc::new(answer);
        for _ in 0..workers {
            tokio::spawn(work(queue.clone(), most, answer.clone()));
        }
        Batches { jobs, what }
    }

    /// `request`'s answer, possibly found together with other callers'.
    /// Dropping the future leaves the request to its worker, which drops it
    /// unanswered unless it has begun on it; a write is then done whole or
    /// not at all.
    pub(super) async fn call(&self, request: Request) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || {
            StoreError::Internal(anyhow::anyhow!(
                "the PostgreSQL workers for {} stopped",
                self.what
            ))
        };
        self.jobs
            .send(Job { request, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// A worker: takes a batch from the queue and answers it, until the queue
/// is closed.
async fn work<Request, Answer, Answering, Answers>(
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job<Request, Answer>>>>,
    most: usize,
    answer: Arc<Answering>,
) where
    Answering: Fn(Vec<Request>, Replies<Answer>) -> Answers,
    Answers: Future<Output = ()>,
{
    loop {
        let mut jobs = Vec::new();
        {
            // One worker at a time waits for the queue; the others are busy
            // answering, and whatever arrives meanwhile forms the next batch.
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut jobs, most).await == 0 {
                return;
            }
        }
        // A caller that went away needs no answer, and its request is not
        // made.
        jobs.retain(|job| !job.reply.is_closed());
        if jobs.is_empty() {
            continue;
        }
        let (requests, senders): (Vec<Request>, Vec<_>) = jobs
            .into_iter()
            .map(|job| (job.request, Some(job.reply)))
            .unzip();
        answer(requests, Replies { senders }).await;
    }
}

/// `error` again, for another request of the batch it failed: the same
/// kind (so the same status), the same message.
pub(super) fn copy_of(error: &StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(error) => StoreError::Unavailable(anyhow::anyhow!("{error:#}")),
        StoreError::Internal(error) => StoreError::Internal(anyhow::anyhow!("{error:#}")),
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::Replies;
    use crate::storage::StoreError;

    /// Replies for `count` requests, and the receivers their callers hold.
    fn replies(
        count: usize,
    ) -> (
        Replies<u32>,
        Vec<oneshot::Receiver<Result<u32, StoreError>>>,
    ) {
        let (senders, receivers) = (0..count)
            .map(|_| {
                let (sender, receiver) = oneshot::channel();
                (Some(sender), receiver)
            })
            .unzip();
        (Replies { senders }, receivers)
    }

    /// What each caller received, in the batch's order.
    fn answers(
        receivers: Vec<oneshot::Receiver<Result<u32, StoreError>>>,
    ) -> Vec<Result<u32, StoreError>> {
        receivers
            .into_iter()
            .map(|mut receiver| receiver.try_recv().expect("every request is answered"))
            .collect()
    }

    fn failure() -> Result<u32, StoreError> {
        Err(StoreError::Internal(anyhow::anyhow!(
            "the statement failed"
        )))
    }

    #[test]
    fn a_failure_after_some_answers_fails_only_the_requests_still_waiting() {
        let (mut replies, receivers) = replies(3);
        replies.send(1, Ok(10));
        // Neither a second answer to a request nor an answer to a place
        // outside the batch reaches anyone.
        replies.send(1, Ok(11));
        replies.send(7, Ok(70));
        replies.send_rest(failure);
        replies.send_rest(|| Ok(0));
        let answers = answers(receivers);
        assert!(matches!(answers[0], Err(StoreError::Internal(_))));
        assert!(matches!(answers[1], Ok(10)));
        assert!(matches!(answers[2], Err(StoreError::Internal(_))));
    }

    #[test]
    fn answers_sent_all_at_once_reach_the_requests_in_order() {
        let (replies, receivers) = replies(3);
        replies.send_all(vec![Ok(1), failure(), Ok(3)]);
        let answers = answers(receivers);
        assert!(matches!(answers[0], Ok(1)));
        assert!(matches!(answers[1], Err(StoreError::Internal(_))));
        assert!(matches!(answers[2], Ok(3)));
    }
}
