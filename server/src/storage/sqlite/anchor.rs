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
//! WAL past it, nor start the WAL file over, so a snapshot held while
//! another process writes lets the WAL grow by all that process writes. The
//! anchor is therefore let go while this process writes (its checkpoints,
//! which SQLite runs after a commit, never wait on the anchor), and it is
//! not taken while another process (an `import`, a second server on the
//! same file) writes: before it holds, it asks the writer connection
//! whether anyone else committed since it last asked, and if so it
//! checkpoints and stays let go for [`RENEW_EVERY`]. While the writer is
//! idle the anchor is let go and taken again every [`RENEW_EVERY`], so the
//! WAL holds at most what another process writes in that time before the
//! anchor steps aside; from then on the other process's checkpoints copy
//! the WAL and start it over as if there were no anchor.

use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long the anchor holds one snapshot while the writer is idle, and
/// how long it stays let go after another process committed.
pub(super) const RENEW_EVERY: Duration = Duration::from_millis(100);

/// A connection that holds a read transaction between writes.
pub(super) struct ReadAnchor {
    connection: Connection,
    /// The writer connection's `data_version` when last asked: it changes
    /// when another connection commits, and the writer's own commits leave
    /// it alone.
    others_version: Option<i64>,
    /// Until when the anchor stays let go because another process wrote.
    aside_until: Instant,
}

impl ReadAnchor {
    /// An anchor on `connection`, for the thread that writes through
    /// `writer`. It holds nothing yet.
    pub(super) fn new(connection: Connection, writer: &Connection) -> ReadAnchor {
        ReadAnchor {
            connection,
            others_version: data_version(writer),
            aside_until: Instant::now(),
        }
    }

    /// Opens the read transaction, unless it is open or another process
    /// wrote lately: if it committed since the last look, this checkpoints
    /// instead and leaves the transaction closed for [`RENEW_EVERY`], so as
    /// not to hold the WAL against that process. A failure leaves it
    /// closed, which costs reads speed and nothing else, and the next call
    /// tries again.
    pub(super) fn hold(&mut self, writer: &Connection) {
        let now = Instant::now();
        if !self.connection.is_autocommit() || now < self.aside_until {
            return;
        }
        let others_version = data_version(writer);
        if others_version != self.others_version {
            self.others_version = others_version;
            self.aside_until = now + RENEW_EVERY;
            // `PASSIVE` never waits: what it cannot copy now (another
            // process reading an older snapshot) is left for the next
            // checkpoint.
            let _ = self
                .connection
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
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

    /// Lets go of the snapshot and holds a new one, unless another process
    /// wrote lately (see [`ReadAnchor::hold`]).
    ///
    /// The writes of this process need no checkpoint here: SQLite makes one
    /// after a commit once the WAL is large enough (and only then, so that
    /// small writes share the cost of copying pages into the database).
    pub(super) fn renew(&mut self, writer: &Connection) {
        self.release();
        self.hold(writer);
    }
}

/// `writer`'s `data_version`, or `None` if it cannot be read (then the next
/// read that succeeds counts as another process's commit, which costs a
/// checkpoint and nothing else).
fn data_version(writer: &Connection) -> Option<i64> {
    writer
        .prepare_cached("PRAGMA data_version")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::super::connect;
    use super::*;

    /// The WAL's frames, and how many of them a `PASSIVE` checkpoint by
    /// `connection` has copied into the database.
    fn checkpoint(connection: &Connection) -> (i64, i64) {
        connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
            .unwrap()
    }

    fn holds(anchor: &ReadAnchor) -> bool {
        !anchor.connection.is_autocommit()
    }

    #[test]
    fn the_anchor_steps_aside_while_another_connection_writes() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("anchor.db");
        let writer = connect(&path, 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x)").unwrap();
        let mut anchor = ReadAnchor::new(connect(&path, 0).unwrap(), &writer);
        // Stands in for another process: `data_version` tells any other
        // connection's commits apart from the writer's own.
        let other = connect(&path, 0).unwrap();
        let insert = |connection: &Connection| {
            connection.execute("INSERT INTO t VALUES (1)", []).unwrap();
        };

        anchor.hold(&writer);
        assert!(holds(&anchor), "held while nobody else writes");
        anchor.release();
        insert(&writer);
        anchor.hold(&writer);
        assert!(holds(&anchor), "the writer's own commits do not count");

        insert(&other);
        let (frames, copied) = checkpoint(&other);
        assert!(
            copied < frames,
            "a held anchor keeps the WAL from a checkpoint"
        );
        anchor.renew(&writer);
        assert!(!holds(&anchor), "let go after another connection's commit");
        anchor.hold(&writer);
        assert!(!holds(&anchor), "and not held again at once");
        insert(&other);
        let (frames, copied) = checkpoint(&other);
        assert_eq!(copied, frames, "nothing keeps the WAL from a checkpoint");

        std::thread::sleep(RENEW_EVERY);
        anchor.renew(&writer);
        assert!(!holds(&anchor), "let go while the other connection writes");
        std::thread::sleep(RENEW_EVERY);
        anchor.renew(&writer);
        assert!(holds(&anchor), "held again once it has stopped");
    }
}
