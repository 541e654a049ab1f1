//! Reads of single runs: concurrent `GET`s share one statement, which looks
//! up every run of the batch by its primary key. Each read sees the runs
//! committed before its statement began, as it would alone.

use std::sync::Arc;

use uuid::Uuid;

use super::Connections;
use super::batches::{Batches, copy_of};
use crate::api::{RunPath, Serialized};
use crate::storage::{StoreError, StoredRun};

/// The runs of four arrays of key columns, each with the (1-based) place of
/// its key in the arrays; a key without a run has no row.
const SELECT_RUNS: &str = "SELECT k.i, t.etag, t.body \
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) WITH ORDINALITY \
         AS k (org_id, project_id, task_agent_id, run_id, i) \
     JOIN task_agent_runs AS t \
         ON (t.org_id, t.project_id, t.task_agent_id, t.run_id) = (k.org_id, k.project_id, k.task_agent_id, k.run_id)";

/// Most reads one statement takes from the queue.
const MAX_GROUP: usize = 128;

/// Most statements of grouped reads at once: two, so that one batch forms
/// while the other is read.
const MAX_WORKERS: usize = 2;

/// The queue of the read workers, which stop once it is dropped.
pub(super) type GroupRead = Batches<RunPath, Option<StoredRun>>;

/// Starts the read workers on the current tokio runtime: at most a quarter
/// of a pool of `pool_size` connections (but one at least), so that writes
/// and lists still find connections. Each read it is `call`ed with may be
/// made in one statement with the reads of other callers.
pub(super) fn start(connections: Arc<Connections>, pool_size: usize) -> GroupRead {
    let workers = (pool_size / 4).clamp(1, MAX_WORKERS);
    Batches::start("reads", workers, MAX_GROUP, move |paths| {
        read(connections.clone(), paths)
    })
}

/// The run at each of `paths`; a failure of the statement fails each read
/// alike.
async fn read(
    connections: Arc<Connections>,
    paths: Vec<RunPath>,
) -> Vec<Result<Option<StoredRun>, StoreError>> {
    match connections.get_runs(&paths).await {
        Ok(runs) => runs.into_iter().map(Ok).collect(),
        Err(error) => paths.iter().map(|_| Err(copy_of(&error))).collect(),
    }
}

impl Connections {
    /// The run at each of `paths`, in their order, in one statement.
    async fn get_runs(&self, paths: &[RunPath]) -> Result<Vec<Option<StoredRun>>, StoreError> {
        let column = |key: fn(&RunPath) -> Uuid| paths.iter().map(key).collect::<Vec<_>>();
        let (org_id, project_id, task_agent_id, run_id) = (
            column(|path| path.org_id),
            column(|path| path.project_id),
            column(|path| path.task_agent_id),
            column(|path| path.run_id),
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(SELECT_RUNS).await?;
        let rows = client
            .query(&statement, &[&org_id, &project_id, &task_agent_id, &run_id])
            .await?;
        let mut runs: Vec<Option<StoredRun>> = paths.iter().map(|_| None).collect();
        for row in rows {
            let place: i64 = row.get(0);
            let run = usize::try_from(place - 1)
                .ok()
                .and_then(|index| runs.get_mut(index))
                .ok_or_else(|| {
                    StoreError::Internal(anyhow::anyhow!("a run read for key {place}, of none"))
                })?;
            *run = Some(StoredRun {
                etag: row.get(1),
                run: Serialized::from_json(row.get(2)),
            });
        }
        Ok(runs)
    }
}
