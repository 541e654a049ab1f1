//! The Task Agent Runs API: the dropshot API trait and its wire types.
//!
//! This crate is the server's half of the contract in `openapi.yaml`. It
//! depends on no storage or auth code (the compiler, not a convention,
//! keeps them out), so [`openapi_document`] builds dropshot's view of the
//! API without the implementation (`cargo xtask check` compares it with the
//! spec).

pub mod error_codes;
mod field_schemas;
mod forms;
mod headers;
mod list;
mod path;
mod run;
mod run_parts;
mod run_response;
mod scalars;
mod serialized;
mod timestamps;

use dropshot::{Header, HttpError, HttpResponseOk, Path, Query, RequestContext, TypedBody};

pub use forms::{Open, Write};
pub use headers::{PutRunHeaders, RunHeaders};
pub use list::{MAX_PAGE_LIMIT, Pagination, RunListQuery, TaskAgentRunPage};
pub use path::{RunPath, TaskAgentPath};
pub use run::{RunStatus, TaskAgentRun, TaskAgentRunWrite};
pub use run_parts::{
    ContextUsage, IntegrationToolInvocation, McpToolInvocation, ModelUsage, PhaseTiming, RunFile,
    RunFileSource, SkillActivation, TaskToolInvocation,
};
pub use run_response::RunResponse;
pub use scalars::{DECIMAL_PATTERN, Decimal, SESSION_ID_MAX_CHARS, SESSION_ID_PATTERN, SessionId};
pub use serialized::Serialized;

/// Title of the API, as the spec's `info.title` has it.
pub const API_TITLE: &str = "Task Agent Runs API";
/// Version of the contract, as the spec's `info.version` has it.
pub const API_VERSION: semver::Version = semver::Version::new(2, 1, 1);

/// Records of task agent executions ("runs"): read one, list a task agent's
/// runs, and let the agent runtime create or replace them.
#[dropshot::api_description]
pub trait TaskAgentRunsApi {
    /// Shared state of the implementation.
    type Context;

    /// Get a task agent run
    ///
    /// Returns one run of a task agent, with its `ETag`. Requires membership
    /// of the organization.
    #[endpoint {
        method = GET,
        path = "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run/{run_id}",
        tags = ["task-agent-runs"],
    }]
    async fn get_task_agent_run(
        rqctx: RequestContext<Self::Context>,
        path: Path<RunPath>,
    ) -> Result<RunResponse, HttpError>;

    /// List the runs of a task agent
    ///
    /// Returns the task agent's runs newest first (by `created`, then by
    /// `id`), filtered and paginated with an opaque cursor. A page deep in the
    /// list costs what the first page costs. Requires membership of the
    /// organization.
    #[endpoint {
        method = GET,
        path = "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run",
        tags = ["task-agent-runs"],
    }]
    async fn list_task_agent_runs(
        rqctx: RequestContext<Self::Context>,
        path: Path<TaskAgentPath>,
        query: Query<RunListQuery>,
    ) -> Result<HttpResponseOk<Open<TaskAgentRunPage>>, HttpError>;

    /// Create or replace a task agent run
    ///
    /// Stores the complete run record sent by its writer (the agent runtime):
    /// 201 when the run is new, 200 when it replaces the stored version. The
    /// body is validated (422 names the offending field); a run in a terminal
    /// status can no longer change (409); with `If-Match`, the run is replaced
    /// only if its `ETag` still matches (412). Requires the `writer` role and
    /// the `task_agent_runs:write` scope.
    #[endpoint {
        method = PUT,
        path = "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run/{run_id}",
        tags = ["task-agent-runs"],
    }]
    async fn put_task_agent_run(
        rqctx: RequestContext<Self::Context>,
        path: Path<RunPath>,
        headers: Header<PutRunHeaders>,
        body: TypedBody<TaskAgentRunWrite>,
    ) -> Result<RunResponse, HttpError>;
}

/// What the API is for, as the spec's `info.description` has it.
pub const API_DESCRIPTION: &str = "Records of the executions (\"runs\") of task agents, \
    the LLM agents of an AI-agent platform. A run carries its status, token usage, credits, \
    tool invocations, phase timings, fallback-model metadata, model usage and files.\n\n\
    Every request needs a bearer JWT access token (Ory Hydra JWT access tokens, or Ory Kratos \
    session tokens). Reading needs membership of the organization; writing needs the `writer` \
    role and the `task_agent_runs:write` scope. Errors share one body, `Error`, and every \
    response carries the `x-request-id` header that the server logs under, except a 431, \
    which the HTTP server sends without either before the request is handled.";

/// Dropshot's OpenAPI document of the API, built from the trait alone.
pub fn openapi_document() -> serde_json::Value {
    let description = task_agent_runs_api_mod::stub_api_description()
        .expect("the API trait describes a valid API");
    description
        .openapi(API_TITLE, API_VERSION)
        .description(API_DESCRIPTION)
        .license("MPL-2.0", "https://www.mozilla.org/en-US/MPL/2.0/")
        .json()
        .expect("dropshot serializes its own document")
}
