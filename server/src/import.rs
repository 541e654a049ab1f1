//! `task-agent-server import FILE.ndjson`: bulk-load runs.
//!
//! Each line is one run: its `TaskAgentRunWrite` fields plus the ids of its
//! path, `org_id`, `project_id`, `task_agent_id` and `id`. Lines pass the
//! same rules as `PUT` (a terminal run changes only to itself); a bad line is
//! reported by its number and skipped, the good ones are committed in
//! batches. The file is streamed: memory does not grow with its size (only
//! with the number of bad lines, which are reported at the end).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::api::{RunPath, TaskAgentRunWrite};
use crate::runs::prepare_write;
use crate::storage::{Database, PutOutcome, PutRejection, RunWrite, StoreError};

/// Runs committed per transaction.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;

/// Runs imported between two refreshes of the planner's statistics.
const STATISTICS_EVERY: u64 = 100_000;

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// What an import did.
#[derive(Debug, Default, Eq, PartialEq)]
pub struct ImportSummary {
    pub lines: u64,
    pub created: u64,
    pub replaced: u64,
    pub unchanged: u64,
    /// Lines not imported, each with its number and why.
    pub rejected: Vec<(u64, String)>,
}

impl ImportSummary {
    /// Runs imported (created, replaced or already stored as they are).
    pub fn imported(&self) -> u64 {
        self.created + self.replaced + self.unchanged
    }
}

/// One line's run, parsed and validated.
fn parse_line(line: &str) -> Result<RunWrite, String> {
    let mut fields: Map<String, Value> =
        serde_json::from_str(line).map_err(|error| format!("not a JSON object: {error}"))?;
    let mut id = |key: &str| -> Result<Uuid, String> {
        let value = fields
            .remove(key)
            .ok_or_else(|| format!("{key}: missing"))?;
        let text = value
            .as_str()
            .ok_or_else(|| format!("{key}: must be a UUID string"))?;
        text.parse()
            .map_err(|_| format!("{key}: not a UUID: {text:?}"))
    };
    let path = RunPath {
        org_id: id("org_id")?,
        project_id: id("project_id")?,
        task_agent_id: id("task_agent_id")?,
        run_id: id("id")?,
    };
    let write: TaskAgentRunWrite =
        serde_json::from_value(Value::Object(fields)).map_err(|error| error.to_string())?;
    prepare_write(&path, write).map_err(|error| error.to_string())
}

/// The outcome of one batch: the line numbers and what happened to each.
type BatchOutcome = (
    Vec<u64>,
    Result<Vec<Result<PutOutcome, PutRejection>>, StoreError>,
);

/// Imports `file` into `database`, reporting rejected lines and progress to
/// `report` as it goes.
pub async fn import(
    database: Arc<dyn Database>,
    file: &Path,
    batch_size: usize,
    report: &mut dyn FnMut(&str),
) -> anyhow::Result<ImportSummary> {
    let input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let mut lines = BufReader::new(input).lines();
    // One batch is written while the next is parsed; the queue holds one
    // batch, so memory stays bounded.
    let (queue, mut batches) = mpsc::channel::<(Vec<u64>, Vec<RunWrite>)>(1);
    let (finished, mut outcomes) = mpsc::unbounded_channel::<BatchOutcome>();
    let writer = tokio::spawn(async move {
        let (mut written, mut analysed_at) = (0, 0);
        while let Some((numbers, writes)) = batches.recv().await {
            written += writes.len() as u64;
            let mut outcome = database.put_runs(writes).await;
            // A table that grows from empty needs fresh statistics early
            // (after the first batch) and then now and again.
            if outcome.is_ok() && (analysed_at == 0 || written - analysed_at >= STATISTICS_EVERY) {
                analysed_at = written;
                if let Err(error) = database.update_statistics().await {
                    outcome = Err(error);
                }
            }
            let failed = outcome.is_err();
            if finished.send((numbers, outcome)).is_err() || failed {
                return;
            }
        }
    });
    let mut summary = ImportSummary::default();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut numbers = Vec::with_capacity(batch_size);
    let mut writes = Vec::with_capacity(batch_size);
    let mut input_done = false;
    while !input_done {
        match lines
            .next_line()
            .await
            .with_context(|| format!("reading {}", file.display()))?
        {
            None => input_done = true,
            Some(line) => {
                summary.lines += 1;
                if !line.trim().is_empty() {
                    match parse_line(&line) {
                        Ok(write) => {
                            numbers.push(summary.lines);
                            writes.push(write);
                        }
                        Err(why) => summary.reject(summary.lines, why, report),
                    }
                }
            }
        }
        if writes.len() >= batch_size || (input_done && !writes.is_empty()) {
            let batch = (std::mem::take(&mut numbers), std::mem::take(&mut writes));
            if queue.send(batch).await.is_err() {
                break; // The writer stopped on an error, reported below.
            }
        }
        while let Ok(batch) = outcomes.try_recv() {
            summary.tally(batch, report)?;
        }
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            let rate = summary.lines as f64 / started.elapsed().as_secs_f64();
            report(&format!(
                "… {} lines read, {} runs imported, {} lines rejected ({rate:.0} lines/s)",
                summary.lines,
                summary.imported(),
                summary.rejected.len()
            ));
        }
    }
    drop(queue);
    writer.await.context("the writer task failed")?;
    while let Some(batch) = outcomes.recv().await {
        summary.tally(batch, report)?;
    }
    summary.rejected.sort_by_key(|(number, _)| *number);
    Ok(summary)
}

impl ImportSummary {
    fn reject(&mut self, number: u64, why: String, report: &mut dyn FnMut(&str)) {
        report(&format!("line {number}: {why}"));
        self.rejected.push((number, why));
    }

    fn tally(
        &mut self,
        (numbers, outcomes): BatchOutcome,
        report: &mut dyn FnMut(&str),
    ) -> anyhow::Result<()> {
        let first = numbers.first().copied().unwrap_or_default();
        let outcomes = outcomes.with_context(|| {
            format!("writing the batch from line {first}; the batches before it are committed")
        })?;
        for (number, outcome) in numbers.into_iter().zip(outcomes) {
            match outcome {
                Ok(PutOutcome::Created) => self.created += 1,
                Ok(PutOutcome::Replaced) => self.replaced += 1,
                Ok(PutOutcome::Unchanged) => self.unchanged += 1,
                Err(rejection) => self.reject(number, rejection.to_string(), report),
            }
        }
        Ok(())
    }
}
