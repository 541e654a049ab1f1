//! The embedded default backend: one SQLite file in WAL mode.
//!
//! Readers never block the writer nor each other; the writes of this process
//! go through one writer thread (which commits concurrent `PUT`s together),
//! and SQLite serialises them with other processes' (`BEGIN IMMEDIATE`, with
//! a busy timeout). Every commit is synced to disk (`synchronous = FULL`),
//! so an acknowledged write survives a crash of the process or of the
//! machine.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use super::cursor_key::{DELETE_REPLACED, SELECT_NEWEST, stored_key};
use super::list_query::{SqlValue, list_query};
use super::{
    CursorKeyStore, ExistingRun, ListedRun, Membership, MembershipStore, NewCursorKey, Position,
    PutOutcome, PutRejection, Role, RunFilter, RunStore, RunWrite, StoreError, StoredCursorKey,
    StoredRun, Timestamp, plan_writes,
};
use super::{millisecond, pending_migrations, stored};
use crate::api::{RunPath, Serialized, TaskAgentPath};
use writer::Writer;

mod anchor;
mod retention;
mod writer;

/// Versioned migrations, applied in order; a version is never edited once
/// released, only followed by a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("0001_runs.sql")),
    (2, include_str!("0002_memberships.sql")),
    (3, include_str!("0003_body_is_json.sql")),
    (
        millisecond::VERSION,
        include_str!("0004_runs_to_the_millisecond.sql"),
    ),
    (5, include_str!("0005_cursor_keys.sql")),
];

/// How long a request waits for a connection, or for the write lock, before
/// the database counts as unavailable.
const WAIT: Duration = Duration::from_secs(5);

/// Runs in a SQLite file.
///
/// Reads (a run, a page, a membership) are indexed lookups in a local file
/// that take microseconds: they run on the request's own thread, which costs
/// far less than handing them to a blocking thread and back (the hand-offs
/// were most of a GET's CPU time). Writes wait for the write lock and sync
/// to disk: they go to the `Writer` thread and its one connection, so a
/// read never waits for a writer's connection, and concurrent writes queue
/// in the process (and share commits) instead of polling SQLite's lock with
/// growing sleeps (which gave writes under contention a tail latency of a
/// second).
pub struct SqliteStore {
    readers: Pool,
    writer: Writer,
}

type Pool = r2d2::Pool<SqliteConnectionManager>;

/// How every connection is set up: `mmap_size` as
/// [`DatabaseOptions::sqlite_mmap_size`](crate::database_url::DatabaseOptions::sqlite_mmap_size).
fn configure(connection: &mut Connection, mmap_size: u64) -> rusqlite::Result<()> {
    connection.busy_timeout(WAIT)?;
    retention::incremental_vacuum_if_new(connection)?;
    // Turning a new file to WAL needs its write lock. When connections opened
    // together (several processes, or stores, starting at once) both read
    // the file first, SQLite answers the one that asks second "busy" at once,
    // without waiting (waiting could deadlock), so the switch is repeated
    // here until the others are done.
    let deadline = Instant::now() + WAIT;
    loop {
        match connection.pragma_update(None, "journal_mode", "WAL") {
            Err(error)
                if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            switched => break switched?,
        }
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    // Reads only: SQLite still writes with `write`, so a failed disk write
    // is an error, not a signal.
    // SQLite caps the map at 2 GiB anyway.
    connection.pragma_update(
        None,
        "mmap_size",
        i64::try_from(mmap_size).unwrap_or(i64::MAX),
    )
}

/// A connection of its own to the file at `path` (the readers' come from
/// the pool), set up as every connection is.
fn connect(path: &Path, mmap_size: u64) -> rusqlite::Result<Connection> {
    let mut connection = Connection::open(path)?;
    configure(&mut connection, mmap_size)?;
    Ok(connection)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it;
    /// each connection maps `mmap_size` bytes of the file
    /// ([`DatabaseOptions::sqlite_mmap_size`](crate::database_url::DatabaseOptions::sqlite_mmap_size)).
    pub fn open(path: &Path, mmap_size: u64) -> anyhow::Result<SqliteStore> {
        if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(directory)
                .with_context(|| format!("creating the data directory {}", directory.display()))?;
        }
        let opening = || format!("opening the SQLite database {}", path.display());
        let mut connection = connect(path, mmap_size).with_context(opening)?;
        migrate(&mut connection).with_context(|| format!("migrating {}", path.display()))?;
        keep_plans_stable(&connection)?;
        let anchor = connect(path, mmap_size).with_context(opening)?;
        let writer =
            Writer::start(connection, anchor, WAIT).context("starting the SQLite writer")?;
        // One reader per thread that can run a request at once, and a few
        // for reads that wait on a blocking thread when all are busy.
        let threads = std::thread::available_parallelism().map_or(4, |n| n.get() as u32);
        let readers = r2d2::Pool::builder()
            .max_size(threads * 2)
            .min_idle(Some(threads * 2))
            // A SQLite connection is a file handle: it does not go stale the
            // way a network connection does, and testing it on every
            // checkout cost a statement per request.
            .test_on_check_out(false)
            .connection_timeout(WAIT)
            .build(
                SqliteConnectionManager::file(path)
                    .with_init(move |connection| configure(connection, mmap_size)),
            )
            .with_context(opening)?;
        Ok(SqliteStore { readers, writer })
    }

    /// Runs `work` on a reader connection: on this thread when one is idle,
    /// else on a blocking thread that waits for one.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match self.readers.try_get() {
            Some(mut connection) => work(&mut connection),
            None => {
                let readers = self.readers.clone();
                tokio::task::spawn_blocking(move || {
                    let mut connection = readers
                        .get()
                        .map_err(|error| StoreError::Unavailable(error.into()))?;
                    work(&mut connection)
                })
                .await
                .map_err(|error| StoreError::Internal(error.into()))?
            }
        }
    }
}

/// Removes the per-value statistics (`sqlite_stat4`) that `ANALYZE` gathers,
/// keeping the per-index ones (`sqlite_stat1`). With them, SQLite compiles a
/// statement again whenever a bound value changes (the value might change
/// the best plan): every lookup paid a full parse and plan. The queries of
/// this store have one good plan whatever the values, which `sqlite_stat1`
/// is enough to choose.
fn keep_plans_stable(connection: &Connection) -> rusqlite::Result<()> {
    let has_value_statistics: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
        [],
        |row| row.get(0),
    )?;
    if has_value_statistics {
        // `ANALYZE sqlite_schema` makes open connections reload the
        // statistics.
        connection.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")?;
    }
    Ok(())
}

/// Applies the migrations the database lacks, in one transaction.
fn migrate(connection: &mut Connection) -> anyhow::Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transaction.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
         )",
    )?;
    let current: i64 = transaction.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    for (version, sql) in pending_migrations(MIGRATIONS, current)? {
        transaction
            .execute_batch(sql)
            .with_context(|| format!("applying migration {version}"))?;
        if *version == millisecond::VERSION {
            runs_to_the_millisecond(&transaction)
                .with_context(|| format!("applying migration {version}"))?;
        }
        transaction.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [version],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

/// Migration 4 ([`millisecond`]): every stored run, a batch at a time in
/// `rowid` order, rewritten where its timestamps were finer.
fn runs_to_the_millisecond(transaction: &rusqlite::Transaction) -> anyhow::Result<()> {
    let mut select = transaction.prepare(
        "SELECT rowid, org_id, project_id, task_agent_id, run_id, body FROM task_agent_runs
         WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
    )?;
    let mut update = transaction.prepare(
        "UPDATE task_agent_runs SET created_nsec = ?2, etag = ?3, body = ?4 WHERE rowid = ?1",
    )?;
    let mut after = 0_i64;
    loop {
        let batch = select
            .query_map(params![after, millisecond::BATCH], |row| {
                let path = RunPath {
                    org_id: row.get(1)?,
                    project_id: row.get(2)?,
                    task_agent_id: row.get(3)?,
                    run_id: row.get(4)?,
                };
                Ok((row.get::<_, i64>(0)?, path, row.get::<_, String>(5)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let Some((last, _, _)) = batch.last() else {
            return Ok(());
        };
        after = *last;
        for (rowid, path, body) in batch {
            if let Some(record) = millisecond::at_the_millisecond(path, &body)
                .with_context(|| format!("run {}", path.run_id))?
            {
                update.execute(params![
                    rowid,
                    record.position.created.nanos,
                    record.etag,
                    record.run.json()
                ])?;
            }
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        let unavailable = matches!(
            error.sqlite_error_code(),
            Some(
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
            )
        );
        if unavailable {
            StoreError::Unavailable(error.into())
        } else {
            StoreError::Internal(error.into())
        }
    }
}

fn to_sqlite(value: SqlValue) -> SqliteValue {
    match value {
        SqlValue::Uuid(id) => SqliteValue::Blob(id.as_bytes().to_vec()),
        SqlValue::Int(n) => SqliteValue::Integer(n),
        SqlValue::Text(text) => SqliteValue::Text(text),
        SqlValue::Bool(flag) => SqliteValue::Integer(i64::from(flag)),
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn get_run(&self, path: &RunPath) -> Result<Option<StoredRun>, StoreError> {
        let path = *path;
        self.read(move |connection| {
            let row = connection
                .prepare_cached(
                    "SELECT etag, body FROM task_agent_runs \
                     WHERE org_id = ?1 AND project_id = ?2 AND task_agent_id = ?3 AND run_id = ?4",
                )?
                .query_row(
                    params![
                        path.org_id,
                        path.project_id,
                        path.task_agent_id,
                        path.run_id
                    ],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .optional()?;
            Ok(row.map(|(etag, body)| StoredRun {
                etag,
                run: Serialized::from_json(body),
            }))
        })
        .await
    }

    async fn list_runs(
        &self,
        task_agent: &TaskAgentPath,
        filter: &RunFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<ListedRun>, StoreError> {
        let (sql, params) = list_query(task_agent, filter, after, limit, |n| format!("?{n}"));
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(
                rusqlite::params_from_iter(params.into_iter().map(to_sqlite)),
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, u32>(1)?,
                        row.get::<_, uuid::Uuid>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )?;
            rows.map(|row| {
                let (seconds, nanos, run_id, body) = row?;
                Ok(ListedRun {
                    position: Position {
                        created: Timestamp { seconds, nanos },
                        run_id,
                    },
                    run: Serialized::from_json(body),
                })
            })
            .collect()
        })
        .await
    }

    async fn put_runs(
        &self,
        writes: Vec<RunWrite>,
    ) -> Result<Vec<Result<PutOutcome, PutRejection>>, StoreError> {
        self.writer.put_runs(writes).await
    }

    async fn update_statistics(&self) -> Result<(), StoreError> {
        self.writer
            .run(|connection| {
                connection.execute_batch("ANALYZE task_agent_runs")?;
                Ok(keep_plans_stable(connection)?)
            })
            .await
    }

    fn pool_status(&self) -> crate::metrics::PoolStatus {
        let readers = self.readers.state();
        let writer_idle = usize::from(!self.writer.is_busy());
        crate::metrics::PoolStatus {
            open: readers.connections as usize + 1,
            idle: readers.idle_connections as usize + writer_idle,
            max: self.readers.max_size() as usize + 1,
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|connection| Ok(connection.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

#[async_trait]
impl MembershipStore for SqliteStore {
    async fn role(&self, org_id: uuid::Uuid, subject: &str) -> Result<Option<Role>, StoreError> {
        let subject = subject.to_owned();
        self.read(move |connection| {
            let role = connection
                .prepare_cached("SELECT role FROM memberships WHERE org_id = ?1 AND subject = ?2")?
                .query_row(params![org_id, subject], |row| row.get::<_, String>(0))
                .optional()?;
            role.map(|name| stored::role(&name)).transpose()
        })
        .await
    }

    async fn put_member(&self, membership: &Membership) -> Result<(), StoreError> {
        let membership = membership.clone();
        self.writer
            .run(move |connection| {
                connection.execute(
                    "INSERT INTO memberships (org_id, subject, role) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (org_id, subject) DO UPDATE SET role = excluded.role",
                    params![
                        membership.org_id,
                        membership.subject,
                        membership.role.as_str()
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn remove_member(&self, org_id: uuid::Uuid, subject: &str) -> Result<bool, StoreError> {
        let subject = subject.to_owned();
        self.writer
            .run(move |connection| {
                let removed = connection.execute(
                    "DELETE FROM memberships WHERE org_id = ?1 AND subject = ?2",
                    params![org_id, subject],
                )?;
                Ok(removed > 0)
            })
            .await
    }

    async fn members(&self, org_id: Option<uuid::Uuid>) -> Result<Vec<Membership>, StoreError> {
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT org_id, subject, role FROM memberships \
                 WHERE ?1 IS NULL OR org_id = ?1 ORDER BY org_id, subject",
            )?;
            let rows = statement.query_map(params![org_id], |row| {
                Ok((
                    row.get::<_, uuid::Uuid>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            rows.map(|row| {
                let (org_id, subject, role) = row?;
                Ok(Membership {
                    org_id,
                    subject,
                    role: stored::role(&role)?,
                })
            })
            .collect()
        })
        .await
    }
}

#[async_trait]
impl CursorKeyStore for SqliteStore {
    async fn newest_cursor_key(&self) -> Result<Option<StoredCursorKey>, StoreError> {
        self.read(|connection| newest_cursor_key(connection)).await
    }

    async fn store_cursor_key(
        &self,
        which: NewCursorKey,
        secret: Vec<u8>,
    ) -> Result<Option<StoredCursorKey>, StoreError> {
        self.writer
            .run(move |connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                transaction.execute(which.insert_sql(), [secret])?;
                transaction.execute(DELETE_REPLACED, [])?;
                let newest = newest_cursor_key(&transaction)?;
                transaction.commit()?;
                Ok(newest)
            })
            .await
    }
}

fn newest_cursor_key(connection: &Connection) -> Result<Option<StoredCursorKey>, StoreError> {
    let row = connection
        .prepare_cached(SELECT_NEWEST)?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(id, secret)| stored_key(id, secret)).transpose()
}

const SELECT_STORED: &str = "SELECT etag, status FROM task_agent_runs \
     WHERE org_id = ?1 AND project_id = ?2 AND task_agent_id = ?3 AND run_id = ?4";

const UPSERT: &str = "INSERT INTO task_agent_runs (org_id, project_id, task_agent_id, run_id, created_sec, \
         created_nsec, session_id, status, is_error, had_task_tool_fail, had_mcp_tool_fail, duration_ms, \
         task_agent_revision_id, etag, body) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
     ON CONFLICT (org_id, project_id, task_agent_id, run_id) DO UPDATE SET \
         created_sec = excluded.created_sec, created_nsec = excluded.created_nsec, session_id = excluded.session_id, status = excluded.status, \
         is_error = excluded.is_error, had_task_tool_fail = excluded.had_task_tool_fail, \
         had_mcp_tool_fail = excluded.had_mcp_tool_fail, duration_ms = excluded.duration_ms, \
         task_agent_revision_id = excluded.task_agent_revision_id, etag = excluded.etag, body = excluded.body";

/// The write transaction of a batch. `BEGIN IMMEDIATE` takes the write lock
/// first, so the versions read are the ones the writes replace.
fn write_runs(
    connection: &mut Connection,
    writes: &[RunWrite],
) -> Result<Vec<Result<PutOutcome, PutRejection>>, StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut existing = HashMap::new();
    {
        let mut select = transaction.prepare_cached(SELECT_STORED)?;
        for write in writes {
            let path = write.record.path;
            if existing.contains_key(&path) {
                continue;
            }
            let stored = select
                .query_row(
                    params![
                        path.org_id,
                        path.project_id,
                        path.task_agent_id,
                        path.run_id
                    ],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .optional()?;
            if let Some((etag, status)) = stored {
                let status = stored::run_status(&status)?;
                existing.insert(path, ExistingRun { etag, status });
            }
        }
    }
    let plan = plan_writes(existing, writes);
    {
        let mut upsert = transaction.prepare_cached(UPSERT)?;
        for record in plan.inserts.iter().chain(&plan.updates) {
            let path = record.path;
            upsert.execute(params![
                path.org_id,
                path.project_id,
                path.task_agent_id,
                path.run_id,
                record.position.created.seconds,
                record.position.created.nanos,
                record.session_id,
                record.status.as_str(),
                record.is_error,
                record.had_task_tool_fail,
                record.had_mcp_tool_fail,
                record.duration_ms,
                record.task_agent_revision_id,
                record.etag,
                record.run.json(),
            ])?;
        }
    }
    transaction.commit()?;
    Ok(plan.outcomes)
}
