//! The run record as the API returns it (`TaskAgentRun`) and as its writer
//! sends it (`TaskAgentRunWrite`).
//!
//! The two are separate schemas on purpose: a response always carries every
//! field (nullable ones as `null`), while a write may omit nullable fields,
//! the `false` flags and the empty lists.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field_schemas::{nullable, nullable_count};
use super::forms::{Open, Write};
use super::run_parts::{
    ContextUsage, IntegrationToolInvocation, McpToolInvocation, ModelUsage, PhaseTiming, RunFile,
    SkillActivation, TaskToolInvocation,
};
use super::scalars::{Decimal, SessionId};
use super::timestamps::{millis, optional_millis};

/// Lifecycle state of a run. `completed`, `failed` and `cancelled` are
/// terminal: a terminal run has `completed` set and can no longer change.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, JsonSchema, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// Whether the run has ended (`completed`, `failed` or `cancelled`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }

    /// The status with this wire name.
    pub fn parse(name: &str) -> Option<RunStatus> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// The wire name of the status (`"running"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// One execution of a task agent: status, token usage, credits, tool
/// invocations, phase timings, fallback-model metadata, model usage and files.
/// Every field is present in every response; nullable fields are `null` when
/// unknown or not applicable.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
pub struct TaskAgentRun {
    /// Identifier of the run.
    pub id: Uuid,
    /// The task agent this run executed.
    pub task_agent_id: Uuid,
    /// ADK session the run belongs to.
    pub session_id: SessionId,
    /// The user who started the run, if any.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub user_id: Option<Uuid>,
    /// Prompt tokens consumed across all model calls.
    #[schemars(range(min = 0))]
    pub input_tokens: i64,
    /// Completion tokens produced across all model calls.
    #[schemars(range(min = 0))]
    pub output_tokens: i64,
    /// `input_tokens + output_tokens`.
    #[schemars(range(min = 0))]
    pub total_tokens: i64,
    /// Credits charged for this run alone, as a decimal string.
    #[schemars(schema_with = "nullable::<Decimal>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub charged_credits: Option<Decimal>,
    /// Credits charged for this run including its continuations, as a
    /// decimal string.
    #[schemars(schema_with = "nullable::<Decimal>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub total_charged_credits: Option<Decimal>,
    /// When the run started.
    pub created: DateTime<Utc>,
    /// When the run reached a terminal status; set exactly when `status` is
    /// terminal.
    #[schemars(schema_with = "nullable::<DateTime<Utc>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub completed: Option<DateTime<Utc>>,
    /// Last time the run made progress.
    #[schemars(schema_with = "nullable::<DateTime<Utc>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Wall-clock duration of the run in milliseconds.
    #[schemars(schema_with = "nullable_count")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub duration_ms: Option<i64>,
    /// Lifecycle state of the run.
    pub status: RunStatus,
    /// Whether the run ended in an error.
    pub is_error: bool,
    /// Revision of the task agent's configuration that ran.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub task_agent_revision_id: Option<Uuid>,
    /// The model the run was configured to use.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub primary_llm_model_id: Option<Uuid>,
    /// The model used after the primary one failed, if the run fell back.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub fallback_llm_model_id: Option<Uuid>,
    /// ADK invocation id (for example `e-<uuid>`).
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub invocation_id: Option<String>,
    /// Whether this run continues an earlier run of the same session.
    pub is_continuation: bool,
    /// Whether the run switched to the fallback model.
    pub used_fallback_model: bool,
    /// Whether a task tool invocation failed.
    pub had_task_tool_fail: bool,
    /// Whether an MCP tool invocation failed.
    pub had_mcp_tool_fail: bool,
    /// Whether an integration tool invocation failed.
    pub had_integration_tool_fail: bool,
    /// Why the primary model failed, when the run fell back.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub primary_failure_reason: Option<String>,
    /// Why the run stopped, when it did not complete normally.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub termination_reason: Option<String>,
    /// Task tools the run invoked, in order.
    #[schemars(schema_with = "nullable::<Vec<Open<TaskToolInvocation>>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub task_tools_invoked: Option<Vec<TaskToolInvocation>>,
    /// MCP tools the run invoked, in order.
    #[schemars(schema_with = "nullable::<Vec<Open<McpToolInvocation>>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub mcp_tools_invoked: Option<Vec<McpToolInvocation>>,
    /// Integration tools the run invoked, in order.
    #[schemars(schema_with = "nullable::<Vec<Open<IntegrationToolInvocation>>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub integration_tools_invoked: Option<Vec<IntegrationToolInvocation>>,
    /// Skills the run activated, in order.
    #[schemars(schema_with = "nullable::<Vec<Open<SkillActivation>>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub skills_activated: Option<Vec<SkillActivation>>,
    /// Time spent in each phase of the run, in order.
    #[schemars(schema_with = "nullable::<Vec<Open<PhaseTiming>>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub phase_timings: Option<Vec<PhaseTiming>>,
    /// How full the model's context window got.
    #[schemars(schema_with = "nullable::<Open<ContextUsage>>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub context_usage: Option<ContextUsage>,
    /// Token and credit usage per model (one row per model used).
    #[schemars(with = "Vec<Open<ModelUsage>>")]
    pub model_usages: Vec<ModelUsage>,
    /// Files attached to the run: uploaded inputs and tool-generated outputs.
    #[schemars(with = "Vec<Open<RunFile>>")]
    pub files: Vec<RunFile>,
}

/// The body of `PUT`: a complete run record as its writer (the agent runtime)
/// holds it. `id` and `task_agent_id` come from the path. Nullable fields may
/// be omitted (meaning `null`), the flags default to `false`, and
/// `model_usages` and `files` default to empty. Unknown fields are rejected.
/// Timestamps keep millisecond precision: digits after the millisecond are
/// dropped.
//
// The nullable fields document no `default: null` (schemars writes one for
// `#[serde(default)]`; `skip_serializing_if` stops it): left out means
// null, as said above, while a written `null` default is code in
// openapi-generator's Go client (`= null`, which does not compile beside an
// `allOf`) and makes openapi-typescript require the field.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskAgentRunWrite {
    /// ADK session the run belongs to.
    pub session_id: SessionId,
    /// The user who started the run, if any.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Prompt tokens consumed across all model calls.
    #[schemars(range(min = 0))]
    pub input_tokens: i64,
    /// Completion tokens produced across all model calls.
    #[schemars(range(min = 0))]
    pub output_tokens: i64,
    /// Must equal `input_tokens + output_tokens`.
    #[schemars(range(min = 0))]
    pub total_tokens: i64,
    /// Credits charged for this run alone, as a decimal string.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Decimal>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub charged_credits: Option<Decimal>,
    /// Credits charged for this run including its continuations, as a
    /// decimal string.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Decimal>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub total_charged_credits: Option<Decimal>,
    /// When the run started.
    #[serde(deserialize_with = "millis")]
    pub created: DateTime<Utc>,
    /// When the run reached a terminal status: required for `completed`,
    /// `failed` and `cancelled`, absent otherwise; not before `created`.
    #[serde(default, deserialize_with = "optional_millis")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub completed: Option<DateTime<Utc>>,
    /// Last time the run made progress; not before `created`.
    #[serde(default, deserialize_with = "optional_millis")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Wall-clock duration of the run in milliseconds.
    #[serde(default)]
    #[schemars(schema_with = "nullable_count")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Lifecycle state of the run.
    pub status: RunStatus,
    /// Whether the run ended in an error.
    #[serde(default)]
    pub is_error: bool,
    /// Revision of the task agent's configuration that ran.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub task_agent_revision_id: Option<Uuid>,
    /// The model the run was configured to use.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub primary_llm_model_id: Option<Uuid>,
    /// The model used after the primary one failed, if the run fell back.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub fallback_llm_model_id: Option<Uuid>,
    /// ADK invocation id (for example `e-<uuid>`).
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// Whether this run continues an earlier run of the same session.
    #[serde(default)]
    pub is_continuation: bool,
    /// Whether the run switched to the fallback model.
    #[serde(default)]
    pub used_fallback_model: bool,
    /// Whether a task tool invocation failed.
    #[serde(default)]
    pub had_task_tool_fail: bool,
    /// Whether an MCP tool invocation failed.
    #[serde(default)]
    pub had_mcp_tool_fail: bool,
    /// Whether an integration tool invocation failed.
    #[serde(default)]
    pub had_integration_tool_fail: bool,
    /// Why the primary model failed, when the run fell back.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub primary_failure_reason: Option<String>,
    /// Why the run stopped, when it did not complete normally.
    #[serde(default)]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<String>,
    /// Task tools the run invoked, in order.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Vec<Write<TaskToolInvocation>>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub task_tools_invoked: Option<Vec<TaskToolInvocation>>,
    /// MCP tools the run invoked, in order.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Vec<Write<McpToolInvocation>>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub mcp_tools_invoked: Option<Vec<McpToolInvocation>>,
    /// Integration tools the run invoked, in order.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Vec<Write<IntegrationToolInvocation>>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub integration_tools_invoked: Option<Vec<IntegrationToolInvocation>>,
    /// Skills the run activated, in order.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Vec<Write<SkillActivation>>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub skills_activated: Option<Vec<SkillActivation>>,
    /// Time spent in each phase of the run, in order.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Vec<Write<PhaseTiming>>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub phase_timings: Option<Vec<PhaseTiming>>,
    /// How full the model's context window got.
    #[serde(default)]
    #[schemars(schema_with = "nullable::<Write<ContextUsage>>")]
    #[schemars(skip_serializing_if = "Option::is_none")]
    pub context_usage: Option<ContextUsage>,
    /// Token and credit usage per model (one row per model used).
    #[serde(default)]
    #[schemars(with = "Vec<Write<ModelUsage>>")]
    pub model_usages: Vec<ModelUsage>,
    /// Files attached to the run: uploaded inputs and tool-generated outputs.
    #[serde(default)]
    #[schemars(with = "Vec<Write<RunFile>>")]
    pub files: Vec<RunFile>,
}

impl TaskAgentRun {
    /// The run a write describes, under the ids taken from the request path.
    pub fn from_write(id: Uuid, task_agent_id: Uuid, write: TaskAgentRunWrite) -> TaskAgentRun {
        let TaskAgentRunWrite {
            session_id,
            user_id,
            input_tokens,
            output_tokens,
            total_tokens,
            charged_credits,
            total_charged_credits,
            created,
            completed,
            last_activity_at,
            duration_ms,
            status,
            is_error,
            task_agent_revision_id,
            primary_llm_model_id,
            fallback_llm_model_id,
            invocation_id,
            is_continuation,
            used_fallback_model,
            had_task_tool_fail,
            had_mcp_tool_fail,
            had_integration_tool_fail,
            primary_failure_reason,
            termination_reason,
            task_tools_invoked,
            mcp_tools_invoked,
            integration_tools_invoked,
            skills_activated,
            phase_timings,
            context_usage,
            model_usages,
            files,
        } = write;
        TaskAgentRun {
            id,
            task_agent_id,
            session_id,
            user_id,
            input_tokens,
            output_tokens,
            total_tokens,
            charged_credits,
            total_charged_credits,
            created,
            completed,
            last_activity_at,
            duration_ms,
            status,
            is_error,
            task_agent_revision_id,
            primary_llm_model_id,
            fallback_llm_model_id,
            invocation_id,
            is_continuation,
            used_fallback_model,
            had_task_tool_fail,
            had_mcp_tool_fail,
            had_integration_tool_fail,
            primary_failure_reason,
            termination_reason,
            task_tools_invoked,
            mcp_tools_invoked,
            integration_tools_invoked,
            skills_activated,
            phase_timings,
            context_usage,
            model_usages,
            files,
        }
    }
}
