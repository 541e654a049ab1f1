//! Retention on SQLite: reads find the expired runs on a reader
//! connection, outside the write lock; each batch is deleted in one
//! `BEGIN IMMEDIATE` transaction on the writer thread, in turn with the
//! writes of this process (other processes wait on the busy timeout).
//!
//! Deleted rows leave free pages inside the file. Files created by this
//! version use incremental auto-vacuum ([`super::SqliteStore::open`]), so
//! the pages are cut from the file in short steps after a prune; older files
//! keep them free (new runs reuse them) until a full `VACUUM`, which also
//! switches them to incremental auto-vacuum.

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::SqliteStore;
use crate::api::{RunPath, TaskAgentPath};
use crate::storage::retention::{
    EXPIRED_RUNS, FreedSpace, Reclaim, RetentionScope, RunRetention, count_expired_sql, nanos,
    pause_after, sqlite_placeholders, task_agent_seek, within,
};
use crate::storage::{StoreError, Timestamp};

/// Pages cut from the file per step of incremental vacuum (8 MB of the
/// default 4 KiB pages, about what a batch of deletions writes): each step
/// is one write transaction, and SQLite writes every page it cuts to the
/// WAL once, so a step holds the write lock about as long as a batch.
const VACUUM_STEP_PAGES: i64 = 2_048;

/// `auto_vacuum` of a file made for incremental vacuum.
const INCREMENTAL: i64 = 2;

/// Deletes one run if it is still expired. The unary `+` keeps the
/// planner from taking the range on `created` for the index to search (it
/// then walked the task agent's expired runs for each one deleted): the
/// run is found by its primary key.
const DELETE_EXPIRED: &str = "DELETE FROM task_agent_runs \
     WHERE org_id = ?1 AND project_id = ?2 AND task_agent_id = ?3 AND run_id = ?4 \
     AND (+created_sec, +created_nsec) < (?5, ?6)";

/// The file's pages: how many, how many of them are free, and their size.
struct Pages {
    count: i64,
    free: i64,
    size: i64,
}

impl Pages {
    fn of(connection: &Connection) -> rusqlite::Result<Pages> {
        let pragma = |name: &str| connection.pragma_query_value(None, name, |row| row.get(0));
        Ok(Pages {
            count: pragma("page_count")?,
            free: pragma("freelist_count")?,
            size: pragma("page_size")?,
        })
    }

    fn bytes(&self, pages: i64) -> u64 {
        u64::try_from(pages * self.size).unwrap_or(0)
    }
}

#[async_trait]
impl RunRetention for SqliteStore {
    async fn count_expired(&self, scope: &RetentionScope) -> Result<u64, StoreError> {
        let (sql, scope) = (sqlite_placeholders(count_expired_sql(scope)), *scope);
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let before = scope.created_before;
            let count: i64 = match scope.org_id {
                Some(org_id) => statement
                    .query_row(params![before.seconds, nanos(before), org_id], |row| {
                        row.get(0)
                    })?,
                None => {
                    statement.query_row(params![before.seconds, nanos(before)], |row| row.get(0))?
                }
            };
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn next_task_agent(
        &self,
        scope: &RetentionScope,
        after: Option<TaskAgentPath>,
    ) -> Result<Option<TaskAgentPath>, StoreError> {
        let (sql, key) = task_agent_seek(scope, after);
        let (sql, scope) = (sqlite_placeholders(sql), *scope);
        self.read(move |connection| {
            let found = connection.prepare_cached(&sql)?.query_row(
                params![key[0], key[1], key[2]],
                |row| {
                    Ok(TaskAgentPath {
                        org_id: row.get(0)?,
                        project_id: row.get(1)?,
                        task_agent_id: row.get(2)?,
                    })
                },
            );
            match found {
                Ok(found) => Ok(within(&scope, found)),
                Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn expired_runs(
        &self,
        task_agent: &TaskAgentPath,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let (sql, task_agent) = (sqlite_placeholders(EXPIRED_RUNS), *task_agent);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let ids = statement.query_map(
                params![
                    task_agent.org_id,
                    task_agent.project_id,
                    task_agent.task_agent_id,
                    before.seconds,
                    nanos(before),
                    limit
                ],
                |row| row.get(0),
            )?;
            Ok(ids.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn delete_expired(
        &self,
        runs: Vec<RunPath>,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.writer
            .run(move |connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut deleted = 0;
                {
                    let mut delete = transaction.prepare_cached(DELETE_EXPIRED)?;
                    for run in &runs {
                        deleted += delete.execute(params![
                            run.org_id,
                            run.project_id,
                            run.task_agent_id,
                            run.run_id,
                            before.seconds,
                            nanos(before)
                        ])? as u64;
                    }
                }
                transaction.commit()?;
                Ok(deleted)
            })
            .await
    }

    async fn reclaim_space(&self, how: Reclaim) -> Result<FreedSpace, StoreError> {
        let start = self
            .writer
            .run(|connection| Ok(Pages::of(connection)?))
            .await?;
        if how == Reclaim::Full {
            // Switching to incremental takes effect with the rewrite, so
            // later prunes give space back without another one.
            self.writer
                .run(|connection| {
                    connection.pragma_update(None, "auto_vacuum", INCREMENTAL)?;
                    Ok(connection.execute_batch("VACUUM")?)
                })
                .await?;
        } else if self.auto_vacuum().await? == INCREMENTAL {
            loop {
                let step = std::time::Instant::now();
                let free = self
                    .writer
                    .run(|connection| {
                        // The pragma returns a row for each page it frees and
                        // stops at each: it must be stepped to its end.
                        let mut statement = connection
                            .prepare(&format!("PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})"))?;
                        let mut pages = statement.query([])?;
                        while pages.next()?.is_some() {}
                        Ok(Pages::of(connection)?.free)
                    })
                    .await?;
                if free == 0 {
                    break;
                }
                tokio::time::sleep(pause_after(step.elapsed())).await;
            }
        }
        let end = self
            .writer
            .run(|connection| {
                // The file is cut once the WAL is copied into it; PASSIVE
                // never waits for (or keeps out) the server's readers and
                // writers, and what it cannot copy now their own
                // checkpoints will.
                connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
                Ok(Pages::of(connection)?)
            })
            .await?;
        Ok(FreedSpace::File {
            given_back: start.bytes((start.count - end.count).max(0)),
            kept: end.bytes(end.free),
        })
    }
}

impl SqliteStore {
    /// The file's `auto_vacuum` mode (0 none, 1 full, 2 incremental).
    async fn auto_vacuum(&self) -> Result<i64, StoreError> {
        self.read(|connection| {
            Ok(connection.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?)
        })
        .await
    }
}

/// Makes a new, empty file use incremental auto-vacuum, so that the space of
/// pruned runs can be given back without rewriting the file. SQLite writes
/// the mode with the file's first page (here, when the file is switched to
/// WAL, so this comes first) and keeps it from then on: older files keep
/// theirs.
pub(super) fn incremental_vacuum_if_new(connection: &Connection) -> rusqlite::Result<()> {
    let pages: i64 = connection.pragma_query_value(None, "page_count", |row| row.get(0))?;
    if pages == 0 {
        connection.pragma_update(None, "auto_vacuum", INCREMENTAL)?;
    }
    Ok(())
}
