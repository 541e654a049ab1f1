//! The PostgreSQL backend, for several stateless server replicas on one
//! database.
//!
//! The SQL stays within what CockroachDB also speaks: no advisory locks
//! (migrations serialise on the primary key of `schema_migrations`), no
//! `JSONB` (the run's JSON is stored as text and returned as it is), row
//! locks with `SELECT ... FOR UPDATE`, multi-row writes with `unnest`, and
//! transactions retried on serialization failures.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

mod batches;
mod group_commit;
mod read;
mod retention;
mod tls;
mod write;

use super::cursor_key::{DELETE_REPLACED, SELECT_NEWEST, stored_key};
use super::list_query::{SqlValue, list_query};
use super::{
    CursorKeyStore, ListedRun, Membership, MembershipStore, NewCursorKey, Position, PutError,
    PutOutcome, PutRejection, Role, RunFilter, RunRecord, RunStore, RunWrite, StoreError,
    StoredCursorKey, StoredRun, Timestamp,
};
use super::{millisecond, pending_migrations, stored};
use crate::api::{RunPath, Serialized, TaskAgentPath};
use crate::database_url::{DatabaseOptions, redact_password};
use crate::etag::IfMatch;
use group_commit::GroupCommit;
use read::GroupRead;
use tls::TlsSettings;

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

/// How long a request waits for a connection before the database counts as
/// unavailable.
const WAIT: Duration = Duration::from_secs(5);

/// How often a transaction is tried when the database reports a conflict
/// with a concurrent one (serialization failure, deadlock, a concurrent
/// insert of the same new run).
const ATTEMPTS: usize = 5;

/// Runs in PostgreSQL (or CockroachDB).
pub struct PostgresStore {
    connections: Arc<Connections>,
    /// Where single-run writes go, to share transactions.
    group_commit: GroupCommit,
    /// Where single-run reads go, to share statements.
    group_read: GroupRead,
}

/// The connection pool, shared by the store and its group commit workers.
struct Connections {
    pool: Pool,
    tls: TlsSettings,
    /// The URL without its password, to say where a connection failed.
    shown_url: String,
}

impl PostgresStore {
    /// Connects to `url` (libpq's syntax, with its `sslmode` and
    /// `sslrootcert`) as `options` say, and applies the migrations the
    /// database lacks (safe when several replicas start at once).
    pub async fn open(url: &str, options: &DatabaseOptions) -> anyhow::Result<PostgresStore> {
        let (tls, url) = TlsSettings::from_url(url)?;
        let mut config =
            tokio_postgres::Config::from_str(&url).context("parsing the PostgreSQL URL")?;
        config.ssl_mode(tls.wire_mode());
        if let Some(timeout) = options.statement_timeout {
            // A setting of every session rather than a SET after connecting:
            // it holds from the first statement, and a RESET ALL cannot undo
            // it.
            let mut server_options = config.get_options().unwrap_or_default().to_owned();
            if !server_options.is_empty() {
                server_options.push(' ');
            }
            server_options.push_str(&format!("-c statement_timeout={}", timeout.as_millis()));
            config.options(&server_options);
        }
        let manager = Manager::from_config(
            config,
            tls.connector()?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.get())
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .context("creating the connection pool")?;
        let connections = Arc::new(Connections {
            pool,
            tls,
            shown_url: redact_password(&url),
        });
        let store = PostgresStore {
            group_commit: group_commit::start(connections.clone(), options.pool_size.get()),
            group_read: read::start(connections.clone(), options.pool_size.get()),
            connections,
        };
        // Connecting first, so that a refused connection (a TLS
        // certificate, a password) is reported as such, not as a failed
        // migration.
        drop(store.client().await?);
        store.migrate().await.context("migrating the database")?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.connections.client().await
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let mut client = self.client().await?;
        // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the
        // catalog; the loser sees the table on its next try.
        let mut attempt = 0;
        loop {
            let created = client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                         version    BIGINT PRIMARY KEY,
                         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                     )",
                )
                .await;
            match created {
                Ok(()) => break,
                Err(_) if attempt < ATTEMPTS => attempt += 1,
                Err(error) => return Err(error.into()),
            }
        }
        let current: i64 = client
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        for (version, sql) in pending_migrations(MIGRATIONS, current)? {
            let transaction = client.transaction().await?;
            // A migration rewrites whole tables, and claiming its version
            // waits for another replica's migration: no statement timeout.
            transaction
                .batch_execute("SET LOCAL statement_timeout = 0")
                .await?;
            // Claiming the version waits for a replica that claimed it
            // first, then finds it applied (or takes over if it failed).
            let claimed = transaction
                .execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[version],
                )
                .await?;
            if claimed == 0 {
                transaction.rollback().await?;
                continue;
            }
            transaction
                .batch_execute(sql)
                .await
                .with_context(|| format!("applying migration {version}"))?;
            if *version == millisecond::VERSION {
                runs_to_the_millisecond(&transaction)
                    .await
                    .with_context(|| format!("applying migration {version}"))?;
            }
            transaction.commit().await?;
        }
        Ok(())
    }
}

impl Connections {
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|error| match error {
            // Only making a connection fails with the backend's error
            // (deadpool replaces a connection that fails its recycling), and
            // whatever the cause, a server without connections is
            // unavailable, not broken.
            PoolError::Backend(error) => StoreError::Unavailable(self.connect_error(error)),
            other => StoreError::Unavailable(other.into()),
        })
    }

    /// A failed connection's error, saying where to and, for a refused
    /// certificate, what is wrong with it.
    fn connect_error(&self, error: tokio_postgres::Error) -> anyhow::Error {
        let explained = self.tls.explain(&error);
        let error = anyhow::Error::new(error)
            .context(format!("connecting to {} ({})", self.shown_url, self.tls));
        match explained {
            Some(explanation) => error.context(explanation),
            None => error,
        }
    }
}

/// Whether an error means the database cannot be reached (as opposed to a
/// bug or a bad statement).
fn is_unreachable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(code)
        }
        // No SQLSTATE: the connection itself failed (refused, reset, timed out).
        None => {
            std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>())
        }
    }
}

/// Migration 4 ([`millisecond`]): every stored run, a batch at a time in
/// key order, rewritten where its timestamps were finer.
async fn runs_to_the_millisecond(
    transaction: &deadpool_postgres::Transaction<'_>,
) -> anyhow::Result<()> {
    let first = transaction
        .prepare(
            "SELECT org_id, project_id, task_agent_id, run_id, body FROM task_agent_runs
             ORDER BY org_id, project_id, task_agent_id, run_id LIMIT $1",
        )
        .await?;
    let next = transaction
        .prepare(
            "SELECT org_id, project_id, task_agent_id, run_id, body FROM task_agent_runs
             WHERE (org_id, project_id, task_agent_id, run_id) > ($2, $3, $4, $5)
             ORDER BY org_id, project_id, task_agent_id, run_id LIMIT $1",
        )
        .await?;
    let update = transaction
        .prepare(
            "UPDATE task_agent_runs SET created_nsec = $5, etag = $6, body = $7
             WHERE org_id = $1 AND project_id = $2 AND task_agent_id = $3 AND run_id = $4",
        )
        .await?;
    let mut after: Option<RunPath> = None;
    loop {
        let rows = match &after {
            None => transaction.query(&first, &[&millisecond::BATCH]).await?,
            Some(path) => {
                let key: [&(dyn ToSql + Sync); 5] = [
                    &millisecond::BATCH,
                    &path.org_id,
                    &path.project_id,
                    &path.task_agent_id,
                    &path.run_id,
                ];
                transaction.query(&next, &key).await?
            }
        };
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            let path = RunPath {
                org_id: row.get(0),
                project_id: row.get(1),
                task_agent_id: row.get(2),
                run_id: row.get(3),
            };
            let body: &str = row.get(4);
            if let Some(record) = millisecond::at_the_millisecond(path, body)
                .with_context(|| format!("run {}", path.run_id))?
            {
                let nanos = i64::from(record.position.created.nanos);
                transaction
                    .execute(
                        &update,
                        &[
                            &path.org_id,
                            &path.project_id,
                            &path.task_agent_id,
                            &path.run_id,
                            &nanos,
                            &record.etag,
                            &record.run.json(),
                        ],
                    )
                    .await?;
            }
            after = Some(path);
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> StoreError {
        if error.code() == Some(&SqlState::QUERY_CANCELED) {
            // The statement timeout: a lock held too long or a database too
            // busy. The transaction is rolled back when dropped, so the
            // connection goes back to the pool usable.
            return StoreError::Unavailable(
                anyhow::Error::new(error).context("the statement ran past the statement timeout"),
            );
        }
        if is_unreachable(&error) {
            StoreError::Unavailable(error.into())
        } else {
            StoreError::Internal(error.into())
        }
    }
}

/// Whether retrying the transaction may succeed.
fn is_transient(error: &tokio_postgres::Error) -> bool {
    matches!(error.code(), Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED)
}

fn to_postgres(value: &SqlValue) -> &(dyn ToSql + Sync) {
    match value {
        SqlValue::Uuid(id) => id,
        SqlValue::Int(n) => n,
        SqlValue::Text(text) => text,
        SqlValue::Bool(flag) => flag,
    }
}

#[async_trait]
impl RunStore for PostgresStore {
    /// Through the group read: concurrent reads share a statement.
    async fn get_run(&self, path: &RunPath) -> Result<Option<StoredRun>, StoreError> {
        self.group_read.call(*path).await
    }

    async fn list_runs(
        &self,
        task_agent: &TaskAgentPath,
        filter: &RunFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<ListedRun>, StoreError> {
        let (sql, params) = list_query(task_agent, filter, after, limit, |n| format!("${n}"));
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(to_postgres).collect();
        let rows: Vec<Row> = client.query(&statement, &params).await?;
        rows.into_iter()
            .map(|row| {
                let nanos: i64 = row.get(1);
                let created = Timestamp {
                    seconds: row.get(0),
                    nanos: u32::try_from(nanos)
                        .map_err(|error| StoreError::Internal(error.into()))?,
                };
                Ok(ListedRun {
                    position: Position {
                        created,
                        run_id: row.get(2),
                    },
                    run: Serialized::from_json(row.get(3)),
                })
            })
            .collect()
    }

    async fn put_runs(
        &self,
        writes: Vec<RunWrite>,
    ) -> Result<Vec<Result<PutOutcome, PutRejection>>, StoreError> {
        self.connections.put_runs(&writes).await
    }

    /// Through the group commit: concurrent single writes share a
    /// transaction (a caller's batch of [`RunStore::put_runs`] already is
    /// one).
    async fn put_run(
        &self,
        record: RunRecord,
        if_match: Option<IfMatch>,
    ) -> Result<PutOutcome, PutError> {
        Ok(self
            .group_commit
            .call(RunWrite { record, if_match })
            .await??)
    }

    async fn update_statistics(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .batch_execute("ANALYZE task_agent_runs")
            .await?;
        Ok(())
    }

    fn pool_status(&self) -> crate::metrics::PoolStatus {
        let status = self.connections.pool.status();
        crate::metrics::PoolStatus {
            open: status.size,
            idle: status.available,
            max: status.max_size,
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }
}

#[async_trait]
impl MembershipStore for PostgresStore {
    async fn role(&self, org_id: Uuid, subject: &str) -> Result<Option<Role>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT role FROM memberships WHERE org_id = $1 AND subject = $2")
            .await?;
        let row = client.query_opt(&statement, &[&org_id, &subject]).await?;
        row.map(|row| stored::role(row.get(0))).transpose()
    }

    async fn put_member(&self, membership: &Membership) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO memberships (org_id, subject, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, subject) DO UPDATE SET role = excluded.role",
                &[
                    &membership.org_id,
                    &membership.subject,
                    &membership.role.as_str(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn remove_member(&self, org_id: Uuid, subject: &str) -> Result<bool, StoreError> {
        let removed = self
            .client()
            .await?
            .execute(
                "DELETE FROM memberships WHERE org_id = $1 AND subject = $2",
                &[&org_id, &subject],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn members(&self, org_id: Option<Uuid>) -> Result<Vec<Membership>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT org_id, subject, role FROM memberships \
                 WHERE $1::uuid IS NULL OR org_id = $1 ORDER BY org_id, subject",
                &[&org_id],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Membership {
                    org_id: row.get(0),
                    subject: row.get(1),
                    role: stored::role(row.get(2))?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl CursorKeyStore for PostgresStore {
    async fn newest_cursor_key(&self) -> Result<Option<StoredCursorKey>, StoreError> {
        let row = self.client().await?.query_opt(SELECT_NEWEST, &[]).await?;
        row.map(|row| stored_key(row.get(0), row.get(1)))
            .transpose()
    }

    async fn store_cursor_key(
        &self,
        which: NewCursorKey,
        secret: Vec<u8>,
    ) -> Result<Option<StoredCursorKey>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        transaction.execute(which.insert_sql(), &[&secret]).await?;
        transaction.execute(DELETE_REPLACED, &[]).await?;
        let row = transaction.query_opt(SELECT_NEWEST, &[]).await?;
        transaction.commit().await?;
        row.map(|row| stored_key(row.get(0), row.get(1)))
            .transpose()
    }
}
