//! Where runs, memberships and the cursor key are kept: four small
//! interfaces, [`RunStore`], [`RunRetention`], [`MembershipStore`] and
//! [`CursorKeyStore`],
//! with two real backends behind them: SQLite, the embedded default, and
//! PostgreSQL, for replicas sharing one database.
//!
//! A run is stored as the JSON text of its `TaskAgentRun` plus the columns
//! that lists filter and sort on, so reads return the stored bytes as they are.

mod cursor_key;
mod list_query;
mod membership;
mod millisecond;
mod postgres;
mod put_decision;
mod record;
mod retention;
mod sqlite;
mod stored;

use async_trait::async_trait;

use crate::api::{RunPath, TaskAgentPath};
use crate::etag::IfMatch;

pub use cursor_key::{CursorKeyStore, NewCursorKey, StoredCursorKey};
pub use membership::{Membership, MembershipStore, Role};
pub use postgres::PostgresStore;
use put_decision::{ExistingRun, plan_writes};
pub use put_decision::{PutError, PutOutcome, PutRejection, RunWrite};
pub use record::{ListedRun, Position, RunFilter, RunRecord, StoredRun, Timestamp};
pub use retention::{FreedSpace, Reclaim, RetentionScope, RunRetention, pause_after};
pub use sqlite::SqliteStore;

/// Why the storage could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (or is too busy to answer in time);
    /// retrying later may succeed.
    #[error("database unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// Anything else.
    #[error("storage error: {0:#}")]
    Internal(anyhow::Error),
}

/// The migrations of `migrations` (version, SQL; in order) that a database
/// at schema version `current` still needs; an error if the database is
/// newer than this server.
fn pending_migrations(
    migrations: &'static [(i64, &'static str)],
    current: i64,
) -> anyhow::Result<impl Iterator<Item = &'static (i64, &'static str)>> {
    let latest = migrations.last().map_or(0, |(version, _)| *version);
    anyhow::ensure!(
        current <= latest,
        "the database has schema version {current}, newer than this server knows ({latest}); upgrade the server"
    );
    Ok(migrations
        .iter()
        .filter(move |(version, _)| *version > current))
}

/// The runs of all task agents.
#[async_trait]
pub trait RunStore: Send + Sync + 'static {
    /// The stored run at `path`, if any.
    async fn get_run(&self, path: &RunPath) -> Result<Option<StoredRun>, StoreError>;

    /// Up to `limit` runs of `task_agent` that pass `filter`, newest first
    /// (by `created`, then by id), strictly after `after` in that order.
    async fn list_runs(
        &self,
        task_agent: &TaskAgentPath,
        filter: &RunFilter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Vec<ListedRun>, StoreError>;

    /// Creates or replaces runs in one transaction: reads the stored
    /// versions, decides each write in order with `plan_writes` (so every
    /// backend applies the same rules), and writes what was accepted. The
    /// outcome of each write, in order; `Err` only when nothing was written.
    async fn put_runs(
        &self,
        writes: Vec<RunWrite>,
    ) -> Result<Vec<Result<PutOutcome, PutRejection>>, StoreError>;

    /// Creates or replaces one run atomically.
    async fn put_run(
        &self,
        record: RunRecord,
        if_match: Option<IfMatch>,
    ) -> Result<PutOutcome, PutError> {
        let mut outcomes = self.put_runs(vec![RunWrite { record, if_match }]).await?;
        Ok(outcomes.pop().expect("one outcome per write")?)
    }

    /// Refreshes the query planner's statistics of the runs. After a bulk
    /// load into a near-empty table the old statistics make the planner
    /// pick poor plans until its own background analysis catches up.
    async fn update_statistics(&self) -> Result<(), StoreError>;

    /// How the connection pool is doing (for metrics).
    fn pool_status(&self) -> crate::metrics::PoolStatus;

    /// Whether the database answers (for readiness).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// A backend: the runs (and their retention), the memberships and the
/// cursor key of one database.
pub trait Database: RunStore + RunRetention + MembershipStore + CursorKeyStore {}

impl<T: RunStore + RunRetention + MembershipStore + CursorKeyStore> Database for T {}
