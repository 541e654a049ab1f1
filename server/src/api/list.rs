//! Listing the runs of a task agent: filters, page size, cursor, and the page.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field_schemas::nullable;
use super::run::{RunStatus, TaskAgentRun};
use super::serialized::Serialized;

/// Largest (and default) number of runs on one page.
pub const MAX_PAGE_LIMIT: i64 = 100;

fn default_page_limit() -> i64 {
    MAX_PAGE_LIMIT
}

/// Filters and paging of `list_task_agent_runs`. Filters combine with AND.
/// A cursor is bound to the filters it was issued for: pass the same filters
/// with it.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq)]
pub struct RunListQuery {
    /// Only runs of this ADK session.
    pub session_id: Option<String>,
    /// Only runs whose `is_error` is this value.
    pub is_error: Option<bool>,
    /// Only runs whose `had_task_tool_fail` is this value.
    pub had_task_tool_fail: Option<bool>,
    /// Only runs whose `had_mcp_tool_fail` is this value.
    pub had_mcp_tool_fail: Option<bool>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Only runs created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Only runs whose `duration_ms` is known and at least this value.
    #[schemars(range(min = 0))]
    pub min_duration_ms: Option<i64>,
    /// Only runs of this revision of the task agent.
    pub task_agent_revision_id: Option<Uuid>,
    /// Maximum number of runs on the page (1 to 100).
    #[serde(default = "default_page_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub page_limit: i64,
    /// Where to continue: `pagination.next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of runs, newest first (by `created`, then by `id`).
#[derive(Clone, Debug, JsonSchema, Serialize)]
pub struct TaskAgentRunPage {
    /// The runs on this page.
    pub results: Vec<Serialized<TaskAgentRun>>,
    /// How to get the next page.
    pub pagination: Pagination,
}

/// Paging state of a list response.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
pub struct Pagination {
    /// Pass as `cursor` (with the same filters) to get the next page; `null`
    /// on the last page.
    #[schemars(schema_with = "nullable::<String>")]
    pub next_cursor: Option<String>,
    /// Whether there is a next page.
    pub has_next: bool,
    /// The page size that was applied.
    #[schemars(range(min = 1, max = 100))]
    pub page_limit: i64,
}
