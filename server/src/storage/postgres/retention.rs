//! Retention on PostgreSQL (and CockroachDB): each batch is one short
//! transaction that deletes runs by primary key, so it locks only the rows
//! it deletes; servers go on reading and writing every other run. The
//! space of deleted rows is reused by the table once (auto)vacuum has seen
//! it, and the database manages the files itself.

use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{ATTEMPTS, PostgresStore, is_transient};
use crate::api::{RunPath, TaskAgentPath};
use crate::storage::retention::{
    EXPIRED_RUNS, FreedSpace, Reclaim, RetentionScope, RunRetention, count_expired_sql, nanos,
    task_agent_seek, within,
};
use crate::storage::{StoreError, Timestamp};

/// Deletes the runs of the key arrays `$1`..`$4` still created before
/// (`$5`, `$6`). `IN` over `unnest` rather than `DELETE ... USING`, which
/// CockroachDB took up late.
const DELETE_EXPIRED: &str = "DELETE FROM task_agent_runs \
     WHERE (org_id, project_id, task_agent_id, run_id) IN \
         (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[])) \
     AND (created_sec, created_nsec) < ($5, $6)";

#[async_trait]
impl RunRetention for PostgresStore {
    async fn count_expired(&self, scope: &RetentionScope) -> Result<u64, StoreError> {
        let before = scope.created_before;
        let nanos = nanos(before);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&before.seconds, &nanos];
        if let Some(org_id) = &scope.org_id {
            params.push(org_id);
        }
        let client = self.client().await?;
        let statement = client.prepare_cached(count_expired_sql(scope)).await?;
        let count: i64 = client.query_one(&statement, &params).await?.get(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn next_task_agent(
        &self,
        scope: &RetentionScope,
        after: Option<TaskAgentPath>,
    ) -> Result<Option<TaskAgentPath>, StoreError> {
        let (sql, key) = task_agent_seek(scope, after);
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await?;
        let row = client
            .query_opt(&statement, &[&key[0], &key[1], &key[2]])
            .await?;
        Ok(row.and_then(|row| {
            within(
                scope,
                TaskAgentPath {
                    org_id: row.get(0),
                    project_id: row.get(1),
                    task_agent_id: row.get(2),
                },
            )
        }))
    }

    async fn expired_runs(
        &self,
        task_agent: &TaskAgentPath,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let statement = client.prepare_cached(EXPIRED_RUNS).await?;
        let rows = client
            .query(
                &statement,
                &[
                    &task_agent.org_id,
                    &task_agent.project_id,
                    &task_agent.task_agent_id,
                    &before.seconds,
                    &nanos(before),
                    &limit,
                ],
            )
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn delete_expired(
        &self,
        runs: Vec<RunPath>,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        let keys: [Vec<Uuid>; 4] = [
            runs.iter().map(|run| run.org_id).collect(),
            runs.iter().map(|run| run.project_id).collect(),
            runs.iter().map(|run| run.task_agent_id).collect(),
            runs.iter().map(|run| run.run_id).collect(),
        ];
        let nanos = nanos(before);
        let client = self.client().await?;
        let statement = client.prepare_cached(DELETE_EXPIRED).await?;
        let params: [&(dyn ToSql + Sync); 6] = [
            &keys[0],
            &keys[1],
            &keys[2],
            &keys[3],
            &before.seconds,
            &nanos,
        ];
        // One statement is its own transaction. A deadlock with a writer
        // that locks the same runs in another order, or a serialization
        // failure on CockroachDB, rolls it back whole: try again.
        let mut attempt = 1;
        loop {
            match client.execute(&statement, &params).await {
                Ok(deleted) => return Ok(deleted),
                Err(error) if is_transient(&error) && attempt < ATTEMPTS => attempt += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn reclaim_space(&self, _how: Reclaim) -> Result<FreedSpace, StoreError> {
        Ok(FreedSpace::Managed)
    }
}
