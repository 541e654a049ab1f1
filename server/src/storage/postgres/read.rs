//! Reads of single runs: concurrent `GET`s share one statement, which looks
//! up every run of the batch by its primary key, and each read is answered
//! as soon as its row arrives. Each read sees the runs committed before its
//! statement began, as it would alone.

use std::pin::pin;
use std::sync::Arc;

use futures::TryStreamExt;
use uuid::Uuid;

use super::Connections;
use super::batches::{Batches, Replies, copy_of};
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
    Batches::start("reads", workers, MAX_GROUP, move |paths, replies| {
        read(connections.clone(), paths, replies)
    })
}

/// Answers the read at each of `paths`, each as its row arrives; a
/// failure of the statement fails each read not answered yet.
async fn read(
    connections: Arc<Connections>,
    paths: Vec<RunPath>,
    mut replies: Replies<Option<StoredRun>>,
) {
    if let Err(error) = connections.get_runs(&paths, &mut replies).await {
        replies.send_rest(|| Err(copy_of(&error)));
    }
    // The paths without a run have no row.
    replies.send_rest(|| Ok(None));
}

impl Connections {
    /// Sends the run at each of `paths` that has one to the reply at its
    /// place, in one statement.
    async fn get_runs(
        &self,
        paths: &[RunPath],
        replies: &mut Replies<Option<StoredRun>>,
    ) -> Result<(), StoreError> {
        let column = |key: fn(&RunPath) -> Uuid| paths.iter().map(key).collect::<Vec<_>>();
        let (org_id, project_id, task_agent_id, run_id) = (
            column(|path| path.org_id),
            column(|path| path.project_id),
            column(|path| path.task_agent_id),
            column(|path| path.run_id),
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(SELECT_RUNS).await?;
        let mut rows = pin!(
            client
                .query_raw(&statement, [&org_id, &project_id, &task_agent_id, &run_id])
                .await?
        );
        while let Some(row) = rows.try_next().await? {
            let place: i64 = row.get(0);
            let index = usize::try_from(place - 1)
                .ok()
                .filter(|index| *index < paths.len())
                .ok_or_else(|| {
                    StoreError::Internal(anyhow::anyhow!("a run read for key {place}, of none"))
                })?;
            replies.send(
                index,
                Ok(Some(StoredRun {
                    etag: row.get(1),
                    run: Serialized::from_json(row.get(2)),
                })),
            );
        }
        Ok(())
    }
}
