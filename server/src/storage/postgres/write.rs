//! Writes of runs: each batch in one transaction that locks the stored
//! versions it is decided against, with `unnest` for many rows at once.

use std::collections::HashMap;
use std::sync::LazyLock;

use tokio_postgres::Statement;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{ATTEMPTS, Connections, is_transient};
use crate::api::RunPath;
use crate::storage::{
    ExistingRun, PutOutcome, PutRejection, RunRecord, RunWrite, StoreError, plan_writes, stored,
};

const SELECT_STORED: &str = "SELECT t.org_id, t.project_id, t.task_agent_id, t.run_id, t.etag, t.status \
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) AS k (org_id, project_id, task_agent_id, run_id) \
     JOIN task_agent_runs AS t \
         ON (t.org_id, t.project_id, t.task_agent_id, t.run_id) = (k.org_id, k.project_id, k.task_agent_id, k.run_id) \
     FOR UPDATE OF t";

const COLUMNS: &str = "org_id, project_id, task_agent_id, run_id, created_sec, created_nsec, session_id, status, is_error, \
     had_task_tool_fail, had_mcp_tool_fail, duration_ms, task_agent_revision_id, etag, body";

const UNNEST_RECORDS: &str = "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], \
     $6::bigint[], $7::text[], $8::text[], $9::boolean[], $10::boolean[], $11::boolean[], $12::bigint[], \
     $13::uuid[], $14::text[], $15::text[])";

/// Inserts the runs of [`Columns::params`], failing with a unique
/// violation if one exists already.
static INSERT_RUNS: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO task_agent_runs ({COLUMNS}) {UNNEST_RECORDS}"));

/// Replaces the runs of [`Columns::params`].
static UPDATE_RUNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE task_agent_runs AS t SET created_sec = u.created_sec, created_nsec = u.created_nsec, session_id = u.session_id, \
                         status = u.status, is_error = u.is_error, had_task_tool_fail = u.had_task_tool_fail, \
                         had_mcp_tool_fail = u.had_mcp_tool_fail, duration_ms = u.duration_ms, \
                         task_agent_revision_id = u.task_agent_revision_id, etag = u.etag, body = u.body \
                     FROM ({UNNEST_RECORDS}) AS u ({COLUMNS}) \
                     WHERE (t.org_id, t.project_id, t.task_agent_id, t.run_id) = \
                         (u.org_id, u.project_id, u.task_agent_id, u.run_id)"
    )
});

/// The columns of `records`, as arrays for `unnest`.
struct Columns<'a> {
    org_id: Vec<Uuid>,
    project_id: Vec<Uuid>,
    task_agent_id: Vec<Uuid>,
    run_id: Vec<Uuid>,
    created_sec: Vec<i64>,
    created_nsec: Vec<i64>,
    session_id: Vec<&'a str>,
    status: Vec<&'static str>,
    is_error: Vec<bool>,
    had_task_tool_fail: Vec<bool>,
    had_mcp_tool_fail: Vec<bool>,
    duration_ms: Vec<Option<i64>>,
    task_agent_revision_id: Vec<Option<Uuid>>,
    etag: Vec<&'a str>,
    body: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    /// Borrows the text of `records` rather than copy it: a body is
    /// kilobytes.
    fn of(records: &[&'a RunRecord]) -> Columns<'a> {
        Columns {
            org_id: records.iter().map(|r| r.path.org_id).collect(),
            project_id: records.iter().map(|r| r.path.project_id).collect(),
            task_agent_id: records.iter().map(|r| r.path.task_agent_id).collect(),
            run_id: records.iter().map(|r| r.path.run_id).collect(),
            created_sec: records.iter().map(|r| r.position.created.seconds).collect(),
            created_nsec: records
                .iter()
                .map(|r| i64::from(r.position.created.nanos))
                .collect(),
            session_id: records.iter().map(|r| r.session_id.as_str()).collect(),
            status: records.iter().map(|r| r.status.as_str()).collect(),
            is_error: records.iter().map(|r| r.is_error).collect(),
            had_task_tool_fail: records.iter().map(|r| r.had_task_tool_fail).collect(),
            had_mcp_tool_fail: records.iter().map(|r| r.had_mcp_tool_fail).collect(),
            duration_ms: records.iter().map(|r| r.duration_ms).collect(),
            task_agent_revision_id: records.iter().map(|r| r.task_agent_revision_id).collect(),
            etag: records.iter().map(|r| r.etag.as_str()).collect(),
            body: records.iter().map(|r| r.run.json()).collect(),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        [
            &self.org_id,
            &self.project_id,
            &self.task_agent_id,
            &self.run_id,
            &self.created_sec,
            &self.created_nsec,
            &self.session_id,
            &self.status,
            &self.is_error,
            &self.had_task_tool_fail,
            &self.had_mcp_tool_fail,
            &self.duration_ms,
            &self.task_agent_revision_id,
            &self.etag,
            &self.body,
        ]
    }
}

/// Begins a write transaction. Its statements run on generic plans:
/// PostgreSQL would otherwise plan them anew on every execution, since the
/// arrays' lengths make each custom plan look cheaper than the generic
/// one, and with groups of a few writes that planning took 7% of the CPU
/// of a machine under `PUT` load (docs/BENCHMARKS.md). The plan of a
/// lookup by primary key does not depend on the keys. A setting of the
/// transaction, not the session, so that it holds behind a pooler in
/// transaction mode and leaves other statements alone; CockroachDB knows
/// it since 24.2.
const BEGIN: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

/// Why one attempt at a batch failed.
enum AttemptError {
    /// Another transaction got in the way; try again.
    Retry(tokio_postgres::Error),
    /// A concurrent writer created one of the new runs first; try again, and
    /// this time decide against its version.
    Raced,
    Failed(StoreError),
}

impl From<tokio_postgres::Error> for AttemptError {
    fn from(error: tokio_postgres::Error) -> AttemptError {
        if is_transient(&error) {
            AttemptError::Retry(error)
        } else {
            AttemptError::Failed(error.into())
        }
    }
}

impl From<StoreError> for AttemptError {
    fn from(error: StoreError) -> AttemptError {
        AttemptError::Failed(error)
    }
}

impl Connections {
    /// Creates or replaces runs in one transaction, as
    /// [`RunStore::put_runs`] says, trying again when a concurrent
    /// transaction got in the way.
    ///
    /// [`RunStore::put_runs`]: crate::storage::RunStore::put_runs
    pub(super) async fn put_runs(&self, writes: &[RunWrite]) -> Result<Outcomes, StoreError> {
        let mut connection = PipelinedConnection {
            client: Some(self.client().await?),
            in_transaction: false,
        };
        let mut attempt = 1;
        loop {
            match connection.try_write(writes).await {
                Ok(outcomes) => return Ok(outcomes),
                Err(AttemptError::Failed(error)) => return Err(error),
                Err(AttemptError::Retry(error)) if attempt >= ATTEMPTS => {
                    return Err(StoreError::Internal(error.into()));
                }
                Err(AttemptError::Raced) if attempt >= ATTEMPTS => {
                    return Err(StoreError::Internal(anyhow::anyhow!(
                        "concurrent writers kept creating the same runs"
                    )));
                }
                Err(AttemptError::Retry(_) | AttemptError::Raced) => attempt += 1,
            }
        }
    }
}

/// The outcome of each write of a batch, in order.
type Outcomes = Vec<Result<PutOutcome, PutRejection>>;

/// A pooled connection that writes in pipelined transactions: `BEGIN` goes
/// out with the locking read and `COMMIT` with the writes, so that a
/// transaction waits for two round trips rather than four or five. Every
/// round trip of a group commit is time in which the writes queued behind
/// it wait, and a system call or two on each side.
///
/// Dropped inside a transaction (by a caller that went away), it closes
/// the connection rather than pool it: PostgreSQL rolls the transaction
/// back, and no later user of the connection finds itself inside it.
struct PipelinedConnection {
    /// Present until dropped.
    client: Option<deadpool_postgres::Object>,
    /// Whether a `BEGIN` went out and nothing has ended its transaction.
    in_transaction: bool,
}

impl Drop for PipelinedConnection {
    fn drop(&mut self) {
        if self.in_transaction {
            drop(self.client.take().map(deadpool_postgres::Object::take));
        }
    }
}

impl PipelinedConnection {
    fn client(&self) -> &deadpool_postgres::ClientWrapper {
        self.client.as_ref().expect("present until dropped")
    }

    /// One attempt at writing a batch in a transaction.
    async fn try_write(&mut self, writes: &[RunWrite]) -> Result<Outcomes, AttemptError> {
        // Prepared once per connection, the three in one round trip.
        let client = self.client();
        let (select, insert, update) = futures::future::try_join3(
            client.prepare_cached(SELECT_STORED),
            client.prepare_cached(&INSERT_RUNS),
            client.prepare_cached(&UPDATE_RUNS),
        )
        .await?;
        let existing = match self.begin_and_lock(&select, writes).await {
            Ok(existing) => existing,
            Err(error) => {
                self.roll_back().await?;
                return Err(error);
            }
        };
        let plan = plan_writes(existing, writes);
        let client = self.client();
        // In this order, and all three sent before the first answer: a
        // failed write aborts the transaction, and the `COMMIT` after it
        // then rolls back, so nothing is acknowledged that is not stored.
        let (inserted, updated, committed) = futures::future::join3(
            execute(client, &insert, &plan.inserts),
            execute(client, &update, &plan.updates),
            client.batch_execute("COMMIT"),
        )
        .await;
        // Committed or not, a transaction ends with its `COMMIT`.
        self.in_transaction = false;
        inserted.map_err(|error| {
            // A concurrent writer created one of the new runs first.
            if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                AttemptError::Raced
            } else {
                error.into()
            }
        })?;
        updated?;
        committed?;
        Ok(plan.outcomes)
    }

    /// Begins a transaction and locks the stored versions of the runs of
    /// `writes`, in one round trip.
    async fn begin_and_lock(
        &mut self,
        select: &Statement,
        writes: &[RunWrite],
    ) -> Result<HashMap<RunPath, ExistingRun>, AttemptError> {
        let paths = || writes.iter().map(|w| w.record.path);
        let keys: [Vec<Uuid>; 4] = [
            paths().map(|p| p.org_id).collect(),
            paths().map(|p| p.project_id).collect(),
            paths().map(|p| p.task_agent_id).collect(),
            paths().map(|p| p.run_id).collect(),
        ];
        self.in_transaction = true;
        let client = self.client();
        let (begun, rows) = futures::future::join(
            client.batch_execute(BEGIN),
            client.query(select, &[&keys[0], &keys[1], &keys[2], &keys[3]]),
        )
        .await;
        begun?;
        let mut existing = HashMap::new();
        for row in rows? {
            let path = RunPath {
                org_id: row.get(0),
                project_id: row.get(1),
                task_agent_id: row.get(2),
                run_id: row.get(3),
            };
            existing.insert(
                path,
                ExistingRun {
                    etag: row.get(4),
                    status: stored::run_status(row.get(5))?,
                },
            );
        }
        Ok(existing)
    }

    /// Ends a transaction that will not commit.
    async fn roll_back(&mut self) -> Result<(), AttemptError> {
        self.client()
            .batch_execute("ROLLBACK")
            .await
            .map_err(|error| AttemptError::Failed(error.into()))?;
        self.in_transaction = false;
        Ok(())
    }
}

/// Runs a write `statement` for `records`, if there are any.
async fn execute(
    client: &deadpool_postgres::ClientWrapper,
    statement: &Statement,
    records: &[&RunRecord],
) -> Result<u64, tokio_postgres::Error> {
    if records.is_empty() {
        return Ok(0);
    }
    let columns = Columns::of(records);
    client.execute(statement, &columns.params()).await
}
