// Not part of dropshot 0.18.0: added by the Task Agent Runs API's vendored
// patch (see vendor/README.md in that repository).

//! Bounds on what clients may hold: open connections, and the time a
//! request body may take to arrive.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// How long a new connection may stay silent before it is closed. The same
/// as hyper's default limit on the time a client takes to send its headers,
/// which only starts once the first byte has arrived.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits on what clients may hold; see `ServerBuilder::connection_limits`.
/// The default sets none, as upstream dropshot does.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConnectionLimits {
    /// The most connections open at once. At the bound, a new connection
    /// takes the place of the oldest one that has not sent a byte yet; when
    /// every open connection has, new ones wait in the listen backlog until
    /// one closes. Connections silent for [`FIRST_BYTE_TIMEOUT`] are closed.
    pub max_connections: Option<NonZeroUsize>,
    /// The most time `TypedBody` and `UntypedBody` wait for a whole request
    /// body; after it the answer is 408 and the connection is closed.
    pub request_body_timeout: Option<Duration>,
}

/// Admits connections up to a bound.
#[derive(Debug)]
pub(crate) struct ConnectionGate {
    permits: Arc<Semaphore>,
    silent: Mutex<SilentConnections>,
}

/// The connections that have not sent a byte yet, oldest first, each with
/// the means to close it.
#[derive(Debug, Default)]
struct SilentConnections {
    next_id: u64,
    waiting: VecDeque<(u64, oneshot::Sender<()>)>,
}

/// An admitted connection's place, given back when the connection closes;
/// until its first byte, it may be taken for a newer connection.
#[derive(Debug)]
pub(crate) struct Admission {
    _permit: OwnedSemaphorePermit,
    id: u64,
    taken: oneshot::Receiver<()>,
}

impl ConnectionGate {
    pub(crate) fn new(max_connections: NonZeroUsize) -> ConnectionGate {
        ConnectionGate {
            permits: Arc::new(Semaphore::new(max_connections.get())),
            silent: Mutex::new(SilentConnections::default()),
        }
    }

    /// A place for a connection just accepted: a free one, else the place
    /// of the oldest silent connection, else the first to be given back.
    /// The connection counts as silent from here (not from when its task
    /// first runs), so that a flood faster than those tasks still finds
    /// every silent connection to take the place of.
    pub(crate) async fn admit(&self) -> Admission {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.close_oldest_silent();
                Arc::clone(&self.permits)
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed")
            }
        };
        let (take, taken) = oneshot::channel();
        let mut silent = self.silent.lock().unwrap();
        let id = silent.next_id;
        silent.next_id += 1;
        silent.waiting.push_back((id, take));
        Admission { _permit: permit, id, taken }
    }

    fn close_oldest_silent(&self) {
        let mut silent = self.silent.lock().unwrap();
        // A connection whose receiver is gone has spoken or closed already.
        while let Some((_, take)) = silent.waiting.pop_front() {
            if take.send(()).is_ok() {
                return;
            }
        }
    }

    /// Waits until the connection of `admission` has sent a byte; false
    /// when it should be closed instead (silent too long, its place was
    /// taken for a newer connection, or the server began to shut down
    /// first: a connection that has not spoken has no request to finish,
    /// and waiting for it would hold the shutdown for the whole grace
    /// period).
    pub(crate) async fn first_byte(
        &self,
        admission: &mut Admission,
        stream: &TcpStream,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> bool {
        // `readable()` may report readiness before any byte has arrived;
        // `peek` waits for one (or for the end of the stream).
        let mut byte = [0; 1];
        let spoke = tokio::select! {
            peeked = stream.peek(&mut byte) => matches!(peeked, Ok(1)),
            _ = &mut admission.taken => false,
            () = tokio::time::sleep(FIRST_BYTE_TIMEOUT) => false,
            () = shutdown => false,
        };
        admission.taken.close();
        let id = admission.id;
        self.silent.lock().unwrap().waiting.retain(|(waiting, _)| *waiting != id);
        spoke
    }
}
