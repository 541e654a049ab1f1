//! Listing the runs of a task agent: filters, page size, cursor, and the page.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field_schemas::{nullable, optional, optional_count};
use super::forms::Open;
use super::run::{RunStatus, TaskAgentRun};
use super::serialized::Serialized;

/// Largest (and default) number of runs on one page.
pub const MAX_PAGE_LIMIT: i64 = 100;

fn default_page_limit() -> i64 {
    MAX_PAGE_LIMIT
}

/// Filters and paging of `list_task_agent_runs`. Filters combine with AND.
/// A cursor is bound to the task agent and the filters it was issued for:
/// pass the same filters with it.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq)]
pub struct RunListQuery {
    /// Only runs of this ADK session.
    #[serde(default)]
    #[schemars(schema_with = "optional::<String>")]
    pub session_id: Option<String>,
    /// Only runs whose `is_error` is this value.
    #[serde(default)]
    #[schemars(schema_with = "optional::<bool>")]
    pub is_error: Option<bool>,
    /// Only runs whose `had_task_tool_fail` is this value.
    #[serde(default)]
    #[schemars(schema_with = "optional::<bool>")]
    pub had_task_tool_fail: Option<bool>,
    /// Only runs whose `had_mcp_tool_fail` is this value.
    #[serde(default)]
    #[schemars(schema_with = "optional::<bool>")]
    pub had_mcp_tool_fail: Option<bool>,
    /// Only runs in this status.
    #[serde(default)]
    #[schemars(schema_with = "optional::<RunStatus>")]
    pub status: Option<RunStatus>,
    /// Only runs created at or after this instant.
    #[serde(default)]
    #[schemars(schema_with = "optional::<DateTime<Utc>>")]
    pub created_after: Option<DateTime<Utc>>,
    /// Only runs created strictly before this instant.
    #[serde(default)]
    #[schemars(schema_with = "optional::<DateTime<Utc>>")]
    pub created_before: Option<DateTime<Utc>>,
    /// Only runs whose `duration_ms` is known and at least this value.
    #[serde(default)]
    #[schemars(schema_with = "optional_count")]
    pub min_duration_ms: Option<i64>,
    /// Only runs of this revision of the task agent.
    #[serde(default)]
    #[schemars(schema_with = "optional::<Uuid>")]
    pub task_agent_revision_id: Option<Uuid>,
    /// Maximum number of runs on the page (1 to 100).
    #[serde(default = "default_page_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub page_limit: i64,
    /// Where to continue: `pagination.next_cursor` of the previous page, sent
    /// back unchanged with the same filters. The cursor is opaque. One that
    /// was altered or made up, or that was issued for other filters or
    /// another task agent, is refused with 422; so is one issued before the
    /// server's cursor key was rotated (start again from the first page). A
    /// cursor carries a position, not a permission: every page is authorized
    /// again.
    #[serde(default)]
    #[schemars(schema_with = "optional::<String>")]
    pub cursor: Option<String>,
}

/// One page of runs, newest first (by `created`, then by `id`).
#[derive(Clone, Debug, JsonSchema, Serialize)]
pub struct TaskAgentRunPage {
    /// The runs on this page.
    #[schemars(with = "Vec<Open<TaskAgentRun>>")]
    pub results: Vec<Serialized<TaskAgentRun>>,
    /// How to get the next page.
    #[schemars(with = "Open<Pagination>")]
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
