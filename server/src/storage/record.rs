//! What the storage reads and writes: a run's JSON with the columns that
//! lists filter and sort on.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::api::{RunPath, RunStatus, Serialized, TaskAgentRun};

/// A run as stored: its `ETag` and the JSON text of its `TaskAgentRun`.
#[derive(Clone, Debug)]
pub struct StoredRun {
    pub etag: String,
    pub run: Serialized<TaskAgentRun>,
}

/// A run in a list, with its place in the list order.
#[derive(Clone, Debug)]
pub struct ListedRun {
    pub position: Position,
    pub run: Serialized<TaskAgentRun>,
}

/// A place in the list order: `created` descending, then id descending.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Position {
    /// `created`, in nanoseconds since the Unix epoch.
    pub created_ns: i64,
    pub run_id: Uuid,
}

/// What a list keeps (all conditions must hold).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    pub session_id: Option<String>,
    pub is_error: Option<bool>,
    pub had_task_tool_fail: Option<bool>,
    pub had_mcp_tool_fail: Option<bool>,
    pub status: Option<RunStatus>,
    /// Inclusive lower bound of `created`, in nanoseconds.
    pub created_from_ns: Option<i64>,
    /// Exclusive upper bound of `created`, in nanoseconds.
    pub created_before_ns: Option<i64>,
    pub min_duration_ms: Option<i64>,
    pub task_agent_revision_id: Option<Uuid>,
}

/// A run ready to be written: its JSON and the columns derived from it.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub path: RunPath,
    pub position: Position,
    pub session_id: String,
    pub status: RunStatus,
    pub is_error: bool,
    pub had_task_tool_fail: bool,
    pub had_mcp_tool_fail: bool,
    pub duration_ms: Option<i64>,
    pub task_agent_revision_id: Option<Uuid>,
    pub etag: String,
    pub run: Serialized<TaskAgentRun>,
}

impl RunRecord {
    /// The record of a validated `run` at `path`.
    pub fn new(path: RunPath, run: &TaskAgentRun) -> anyhow::Result<RunRecord> {
        let created_ns = nanos(run.created).ok_or_else(|| {
            anyhow::anyhow!("created {} is outside the nanosecond range", run.created)
        })?;
        let json = Serialized::new(run)?;
        Ok(RunRecord {
            path,
            position: Position {
                created_ns,
                run_id: run.id,
            },
            session_id: run.session_id.0.clone(),
            status: run.status,
            is_error: run.is_error,
            had_task_tool_fail: run.had_task_tool_fail,
            had_mcp_tool_fail: run.had_mcp_tool_fail,
            duration_ms: run.duration_ms,
            task_agent_revision_id: run.task_agent_revision_id,
            etag: crate::etag::etag_of(json.json()),
            run: json,
        })
    }
}

/// Nanoseconds since the Unix epoch, if they fit in an `i64` (years 1677 to
/// 2262).
pub fn nanos(instant: DateTime<Utc>) -> Option<i64> {
    instant.timestamp_nanos_opt()
}

/// Nanoseconds since the Unix epoch, clamped to the `i64` range: as a bound,
/// an instant beyond the range is equivalent to the end of the range.
pub fn clamped_nanos(instant: DateTime<Utc>) -> i64 {
    nanos(instant).unwrap_or(if instant.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}
