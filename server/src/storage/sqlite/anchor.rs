//! A read transaction the writer thread keeps open while it has nothing to
//! write, so that the readers' transactions do not each lock and unlock the
//! WAL index with a system call.
//!
//! Every read transaction takes a shared lock on a read mark of the WAL
//! index (the `-shm` file). SQLite counts these locks per process and calls
//! `fcntl` only when a count goes from 0 to 1 or back; with a few threads
//! reading, the count keeps touching 0, and readers wait on the mutex around
//! the count while another is inside `fcntl`. A read transaction that stays
//! open keeps the count above 0.
//!
//! An open read transaction pins its snapshot: SQLite cannot checkpoint the
//! WAL past it, nor start the WAL file over, and under steady writes a
//! snapshot held for good would let the WAL grow without bound. So the
//! anchor is let go while the writer writes (this process's checkpoints,
//! which SQLite runs after a commit, never wait on it), and every
//! [`RENEW_EVERY`] while the writer is idle it is let go and taken again,
//! after a checkpoint when another process (an `import`, say) has written
//! since: at worst the WAL holds what other processes write in that time.

use std::time::Duration;

use rusqlite::Connection;

/// How long the anchor holds one snapshot while the writer is idle.
pub(super) const RENEW_EVERY: Duration = Duration::from_millis(100);

/// A connection that holds a read transaction between writes.
pub(super) struct ReadAnchor {
    connection: Connection,
    /// The writer connection's `data_version` at the last renewal: it
    /// changes when another process commits.
    others_version: Option<i64>,
}

impl ReadAnchor {
    pub(super) fn new(connection: Connection) -> ReadAnchor {
        ReadAnchor {
            connection,
            others_version: None,
        }
    }

    /// Opens the read transaction, unless it is open. A failure leaves it
    /// closed, which costs reads speed and nothing else, and the next call
    /// tries again.
    pub(super) fn hold(&mut self) {
        if !self.connection.is_autocommit() {
            return;
        }
        // `BEGIN` alone takes no snapshot: the first read does.
        let begun = self.connection.execute_batch("BEGIN").and_then(|()| {
            self.connection
                .prepare_cached("SELECT count(*) FROM sqlite_schema")?
                .query_row([], |_| Ok(()))
        });
        if begun.is_err() {
            self.release();
        }
    }

    /// Closes the read transaction, unless it is closed.
    pub(super) fn release(&mut self) {
        if !self.connection.is_autocommit() {
            // A read transaction has nothing to lose; if even this fails,
            // the connection is unusable and `hold` fails too.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }

    /// Lets go of the snapshot, checkpoints the WAL if another process
    /// wrote since the last renewal, and holds a new snapshot.
    ///
    /// The writes of this process need no checkpoint here: SQLite makes one
    /// after a commit once the WAL is large enough (and only then, so that
    /// small writes share the cost of copying pages into the database).
    pub(super) fn renew(&mut self, writer: &Connection) {
        self.release();
        let others_version = writer
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .ok();
        if others_version != self.others_version {
            self.others_version = others_version;
            // `PASSIVE` never waits: what it cannot copy now (another
            // process reading an older snapshot) is left for the next
            // checkpoint.
            let _ = self
                .connection
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
        self.hold();
    }
}
