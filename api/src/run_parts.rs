//! The nested objects of a run. They appear unchanged in responses and in
//! `PUT` bodies; unknown fields are rejected so that a writer's typo never
//! silently drops data, and nullable fields must be present (as `null`), as
//! the schema says (`deserialize_with` stops serde from reading a missing
//! `Option` as `None`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field_schemas::{nullable, nullable_count};
use super::scalars::Decimal;
use super::timestamps::{millis, optional_millis};

/// One call of a task tool (another task agent used as a tool).
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskToolInvocation {
    /// The task that was invoked.
    pub task_id: Uuid,
    /// Name of the task at the time of the call.
    pub task_name: String,
    /// The run of the invoked task, when one was recorded.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub task_run_id: Option<Uuid>,
    /// Whether the call failed.
    pub is_error: bool,
    /// How long the call took, in milliseconds.
    #[schemars(schema_with = "nullable_count")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub duration_ms: Option<i64>,
    /// The error message of a failed call.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub error: Option<String>,
}

/// One call of a tool served by an MCP server.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct McpToolInvocation {
    /// The MCP server that served the tool.
    pub mcp_server_id: Uuid,
    /// Display name of the MCP server.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub server_name: Option<String>,
    /// Name of the tool.
    pub tool_name: String,
    /// Whether the call failed.
    pub is_error: bool,
    /// How long the call took, in milliseconds.
    #[schemars(schema_with = "nullable_count")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub duration_ms: Option<i64>,
    /// The error message of a failed call.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub error: Option<String>,
}

/// One call of a tool of a project integration.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationToolInvocation {
    /// The project integration that provided the tool.
    pub project_integration_id: Uuid,
    /// Name of the tool.
    pub tool_name: String,
    /// Whether the call failed.
    pub is_error: bool,
    /// How long the call took, in milliseconds.
    #[schemars(schema_with = "nullable_count")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub duration_ms: Option<i64>,
    /// The error message of a failed call.
    #[schemars(schema_with = "nullable::<String>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub error: Option<String>,
}

/// A skill the agent activated during the run.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SkillActivation {
    /// The skill.
    pub skill_id: Uuid,
    /// The revision of the skill that was activated.
    #[schemars(schema_with = "nullable::<Uuid>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub skill_revision_id: Option<Uuid>,
    /// Name of the skill.
    pub name: String,
    /// When the skill was activated.
    #[schemars(schema_with = "nullable::<DateTime<Utc>>")]
    #[serde(deserialize_with = "optional_millis")]
    pub activated_at: Option<DateTime<Utc>>,
}

/// Time spent in one phase of the run.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseTiming {
    /// The phase: `llm`, `tool_execution`, `memory_compaction`, ...
    pub phase: String,
    /// When the phase started.
    #[serde(deserialize_with = "millis")]
    pub started_at: DateTime<Utc>,
    /// How long the phase took, in milliseconds.
    #[schemars(range(min = 0))]
    pub duration_ms: i64,
}

/// How full the model's context window got during the run; `null` where it
/// was not recorded.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextUsage {
    /// Tokens in the context at its fullest.
    #[schemars(range(min = 0))]
    pub used_tokens: i64,
    /// Size of the model's context window, in tokens.
    #[schemars(range(min = 0))]
    pub context_window: i64,
    /// How many times the context was compacted.
    #[schemars(range(min = 0))]
    pub compactions: i64,
}

/// Token and credit usage of one model within the run.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelUsage {
    /// The model.
    pub llm_model_id: Uuid,
    /// Name of the model.
    pub model_name: String,
    /// Whether this model was used as the fallback.
    pub is_fallback: bool,
    /// Prompt tokens sent to this model.
    #[schemars(range(min = 0))]
    pub input_tokens: i64,
    /// Completion tokens produced by this model.
    #[schemars(range(min = 0))]
    pub output_tokens: i64,
    /// Tokens of both kinds for this model.
    #[schemars(range(min = 0))]
    pub total_tokens: i64,
    /// Credits charged for this model's usage, as a decimal string.
    #[schemars(schema_with = "nullable::<Decimal>")]
    #[serde(deserialize_with = "Option::deserialize")]
    pub charged_credits: Option<Decimal>,
}

/// Where a run's file came from: `uploaded` as an input of the run, or
/// `generated` by a tool during the run.
#[derive(Clone, Copy, Debug, Deserialize, Eq, JsonSchema, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunFileSource {
    Uploaded,
    Generated,
}

/// A file attached to a run.
#[derive(Clone, Debug, Deserialize, JsonSchema, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// Identifier of the file.
    pub id: Uuid,
    /// Name of the file.
    pub filename: String,
    /// Media type of the file, for example `application/pdf`.
    pub content_type: String,
    /// Size of the file in bytes.
    #[schemars(range(min = 0))]
    pub size_bytes: i64,
    /// Whether the file was uploaded or generated.
    pub source: RunFileSource,
    /// When the file was attached.
    #[serde(deserialize_with = "millis")]
    pub created: DateTime<Utc>,
}
