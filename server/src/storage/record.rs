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

/// An instant as the storage sorts it: seconds since the Unix epoch and the
/// nanoseconds within the second (every `date-time` fits, to the nanosecond).
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Timestamp {
        Timestamp {
            seconds: instant.timestamp(),
            nanos: instant.timestamp_subsec_nanos(),
        }
    }
}

/// A place in the list order: `created` descending, then id descending.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Position {
    pub created: Timestamp,
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
    /// Inclusive lower bound of `created`.
    pub created_from: Option<Timestamp>,
    /// Exclusive upper bound of `created`.
    pub created_before: Option<Timestamp>,
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
    pub fn new(path: RunPath, run: &TaskAgentRun) -> Result<RunRecord, serde_json::Error> {
        let json = Serialized::new(run)?;
        Ok(RunRecord {
            path,
            position: Position {
                created: run.created.into(),
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
