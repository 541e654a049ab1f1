//! `task-agent-server prune --created-before TIME`: retention.
//!
//! Deletes the runs created before an instant (of one organization, or of
//! all) in batches of one short transaction each, pausing after each batch
//! as long as it took, so that the servers on the same database keep
//! reading and writing. Lists are keyset-paginated, so a walk through the
//! pages that is in progress neither repeats nor skips a run that survives.
//! Counts first (which is all `--dry-run` does), then reports progress
//! every two seconds; at the end gives the freed space back where the
//! backend can ([`Reclaim`]).

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use crate::api::{RunPath, TaskAgentPath};
use crate::storage::{Database, FreedSpace, Reclaim, RetentionScope, StoreError, pause_after};

/// Runs deleted per transaction.
pub const DEFAULT_BATCH_SIZE: NonZeroUsize = NonZeroUsize::new(2_000).expect("not zero");

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How often a batch is tried while the database is unavailable (busy with
/// other writers, or unreachable for a moment), and how long to wait
/// before the next try.
const ATTEMPTS: u32 = 5;
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What to prune, and how.
#[derive(Clone, Copy, Debug)]
pub struct PruneOptions {
    pub scope: RetentionScope,
    /// Most runs deleted in one transaction.
    pub batch_size: usize,
    /// Count only; delete nothing.
    pub dry_run: bool,
    /// How much free space to give back after deleting.
    pub reclaim: Reclaim,
}

/// What a prune did.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PruneSummary {
    /// Runs in the scope when the prune started.
    pub expired: u64,
    /// Runs deleted (none on a dry run).
    pub deleted: u64,
    /// How long finding and deleting them took (pauses included, giving
    /// space back not).
    pub deleting: Duration,
    /// What happened to the space (`None` on a dry run).
    pub space: Option<FreedSpace>,
}

/// Why a prune stopped, and how far it got: the batches before are
/// committed.
#[derive(Debug, thiserror::Error)]
#[error("stopped after deleting {deleted} runs (those stay deleted): {source}")]
pub struct PruneError {
    pub deleted: u64,
    #[source]
    pub source: StoreError,
}

/// Prunes `database` as `options` say, reporting progress to `report`.
pub async fn prune(
    database: &dyn Database,
    options: &PruneOptions,
    report: &mut dyn FnMut(&str),
) -> Result<PruneSummary, PruneError> {
    let mut walk = Walk {
        database,
        options,
        deleted: 0,
    };
    let expired = walk
        .attempt(|| database.count_expired(&options.scope))
        .await?;
    if options.dry_run {
        return Ok(PruneSummary {
            expired,
            deleted: 0,
            deleting: Duration::ZERO,
            space: None,
        });
    }
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut task_agent = walk.next_task_agent(None).await?;
    while task_agent.is_some() {
        let batch = walk.collect(&mut task_agent).await?;
        if batch.is_empty() {
            break;
        }
        let step = Instant::now();
        let before = options.scope.created_before;
        walk.deleted += walk
            .attempt(|| database.delete_expired(batch.clone(), before))
            .await?;
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            let rate = walk.deleted as f64 / started.elapsed().as_secs_f64();
            report(&format!(
                "… {} of {expired} runs deleted ({rate:.0} runs/s)",
                walk.deleted
            ));
        }
        tokio::time::sleep(pause_after(step.elapsed())).await;
    }
    let deleting = started.elapsed();
    if walk.deleted > 0 {
        // Statistics taken before a large share of the rows went would
        // mislead the planner until the database's own analysis caught up.
        // (First, so that the pages the analysis frees are given back too.)
        walk.attempt(|| database.update_statistics()).await?;
        report("giving the space back…");
    }
    let space = walk
        .attempt(|| database.reclaim_space(options.reclaim))
        .await?;
    Ok(PruneSummary {
        expired,
        deleted: walk.deleted,
        deleting,
        space: Some(space),
    })
}

/// A prune in progress: the task agents are visited in key order, each
/// until its expired runs are gone.
struct Walk<'a> {
    database: &'a dyn Database,
    options: &'a PruneOptions,
    deleted: u64,
}

impl Walk<'_> {
    /// The runs of the next batch, from `task_agent` on; moves `task_agent`
    /// to the next one while the current one has no more expired runs
    /// (`None` at the end).
    async fn collect(
        &mut self,
        task_agent: &mut Option<TaskAgentPath>,
    ) -> Result<Vec<RunPath>, PruneError> {
        let (limit, before) = (self.options.batch_size, self.options.scope.created_before);
        let mut batch = Vec::with_capacity(limit);
        while let Some(current) = *task_agent
            && batch.len() < limit
        {
            let wanted = limit - batch.len();
            let ids = self
                .attempt(|| self.database.expired_runs(&current, before, wanted))
                .await?;
            if ids.len() < wanted {
                *task_agent = self.next_task_agent(Some(current)).await?;
            }
            batch.extend(ids.into_iter().map(|run_id| RunPath {
                org_id: current.org_id,
                project_id: current.project_id,
                task_agent_id: current.task_agent_id,
                run_id,
            }));
        }
        Ok(batch)
    }

    async fn next_task_agent(
        &mut self,
        after: Option<TaskAgentPath>,
    ) -> Result<Option<TaskAgentPath>, PruneError> {
        let scope = self.options.scope;
        self.attempt(|| self.database.next_task_agent(&scope, after))
            .await
    }

    /// `step`, tried again after a pause while the database is unavailable.
    async fn attempt<T, F, S>(&self, mut step: S) -> Result<T, PruneError>
    where
        S: FnMut() -> F,
        F: Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 1;
        loop {
            match step().await {
                Ok(value) => return Ok(value),
                Err(StoreError::Unavailable(_)) if attempt < ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(RETRY_AFTER).await;
                }
                Err(source) => {
                    return Err(PruneError {
                        deleted: self.deleted,
                        source,
                    });
                }
            }
        }
    }
}
