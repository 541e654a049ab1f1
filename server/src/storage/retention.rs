//! Retention: deleting the runs created before an instant, a small batch
//! at a time, while servers keep using the database.
//!
//! The expired runs of one task agent are the tail of its range in the
//! index on `(org, project, task agent, created DESC, ...)`, so the walk goes
//! task agent by task agent, each found by one seek into that index, and
//! deletes each one's tail in batches. Finding the runs of a batch is a read
//! (on SQLite, outside the write lock); deleting them is one short write
//! transaction by primary key, which checks again that each run is still
//! expired (a writer may have replaced it since).
//!
//! The SQL is written once, with `$n` placeholders; SQLite reads them as
//! `?n` ([`sqlite_placeholders`]).

use async_trait::async_trait;
use uuid::Uuid;

use super::{StoreError, Timestamp};
use crate::api::{RunPath, TaskAgentPath};

/// The runs a prune deletes: created before `created_before`, of one
/// organization or of all.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RetentionScope {
    /// Runs created before this instant (exclusive) expire.
    pub created_before: Timestamp,
    /// Only this organization's runs, when set.
    pub org_id: Option<Uuid>,
}

/// What happened to the space that deleted runs took.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum FreedSpace {
    /// SQLite: `given_back` bytes were cut from the file; `kept` bytes stay
    /// free inside it (reused by new runs), which only a full `VACUUM`
    /// gives back.
    File { given_back: u64, kept: u64 },
    /// The database reuses and returns space by itself (PostgreSQL's
    /// autovacuum).
    Managed,
}

/// How much of the free space to give back.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Reclaim {
    /// What can be given back in short steps, without keeping writers out
    /// for long (SQLite's incremental vacuum, on files made for it).
    Incremental,
    /// All of it, even if that keeps writers waiting while the database
    /// is rewritten (SQLite's `VACUUM`, which also makes the file ready for
    /// incremental vacuum from then on).
    Full,
}

/// Deleting expired runs, in steps small enough for a live database.
#[async_trait]
pub trait RunRetention: Send + Sync + 'static {
    /// How many runs `scope` covers now.
    async fn count_expired(&self, scope: &RetentionScope) -> Result<u64, StoreError>;

    /// The first task agent with stored runs after `after` in key order
    /// (the first of all, or of `scope`'s organization, when `after` is
    /// `None`); `None` when there is none left in `scope`.
    async fn next_task_agent(
        &self,
        scope: &RetentionScope,
        after: Option<TaskAgentPath>,
    ) -> Result<Option<TaskAgentPath>, StoreError>;

    /// Up to `limit` ids of runs of `task_agent` created before `before`.
    async fn expired_runs(
        &self,
        task_agent: &TaskAgentPath,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Deletes those of `runs` that are still created before `before`, in
    /// one transaction; how many it deleted.
    async fn delete_expired(
        &self,
        runs: Vec<RunPath>,
        before: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Gives free space back to the file system, as `how` says.
    async fn reclaim_space(&self, how: Reclaim) -> Result<FreedSpace, StoreError>;
}

/// Where the walk over task agents starts: `after`'s key, else the lowest
/// key of the scope; the SQL that seeks past it (or to it).
pub(super) fn task_agent_seek(
    scope: &RetentionScope,
    after: Option<TaskAgentPath>,
) -> (&'static str, [Uuid; 3]) {
    match after {
        Some(after) => (
            NEXT_TASK_AGENT,
            [after.org_id, after.project_id, after.task_agent_id],
        ),
        None => (
            FIRST_TASK_AGENT,
            [scope.org_id.unwrap_or_default(), Uuid::nil(), Uuid::nil()],
        ),
    }
}

/// The task agent a seek found, unless it is outside `scope`.
pub(super) fn within(scope: &RetentionScope, found: TaskAgentPath) -> Option<TaskAgentPath> {
    scope
        .org_id
        .is_none_or(|org_id| org_id == found.org_id)
        .then_some(found)
}

/// The count of [`RunRetention::count_expired`]: `$1`, `$2` the instant,
/// `$3` the organization (when the scope has one).
pub(super) fn count_expired_sql(scope: &RetentionScope) -> &'static str {
    match scope.org_id {
        Some(_) => {
            "SELECT count(*) FROM task_agent_runs \
             WHERE org_id = $3 AND (created_sec, created_nsec) < ($1, $2)"
        }
        None => "SELECT count(*) FROM task_agent_runs WHERE (created_sec, created_nsec) < ($1, $2)",
    }
}

/// The first task agent at or after a key (one seek into the primary key).
const FIRST_TASK_AGENT: &str = "SELECT org_id, project_id, task_agent_id FROM task_agent_runs \
     WHERE (org_id, project_id, task_agent_id) >= ($1, $2, $3) \
     ORDER BY org_id, project_id, task_agent_id LIMIT 1";

/// The first task agent after a key.
const NEXT_TASK_AGENT: &str = "SELECT org_id, project_id, task_agent_id FROM task_agent_runs \
     WHERE (org_id, project_id, task_agent_id) > ($1, $2, $3) \
     ORDER BY org_id, project_id, task_agent_id LIMIT 1";

/// The expired runs of a task agent: the tail of its range in the index by
/// `created`.
pub(super) const EXPIRED_RUNS: &str = "SELECT run_id FROM task_agent_runs \
     WHERE org_id = $1 AND project_id = $2 AND task_agent_id = $3 \
     AND (created_sec, created_nsec) < ($4, $5) LIMIT $6";

/// `sql` with SQLite's numbered placeholders (`?n` for `$n`).
pub(super) fn sqlite_placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The nanoseconds of `instant` as the databases store them.
pub(super) fn nanos(instant: Timestamp) -> i64 {
    i64::from(instant.nanos)
}

/// The least pause between two steps of a prune.
const MIN_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// How long to leave the database to others after a step of a prune that
/// took `step`: as long as the step (so that a prune holds SQLite's write
/// lock at most half of the time), and at least long enough for a writer
/// that sleeps in SQLite's busy handler (1 to 25 ms at first) to wake up
/// and take its turn.
pub fn pause_after(step: std::time::Duration) -> std::time::Duration {
    step.max(MIN_PAUSE)
}
