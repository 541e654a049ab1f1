//! Runs to write in tests, as the JSON a writer sends.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use task_agent_client::types::{self, TaskAgentRun, TaskAgentRunWrite};
use task_agent_client::{Client, ResponseValue, builder};
use uuid::Uuid;

use task_agent_server::api::{RunPath, TaskAgentPath};
use task_agent_server::storage::{Database, Membership, Role};

use super::{READER, TestServer, WRITER};

/// A task agent with fresh ids.
#[derive(Clone, Copy, Debug)]
pub struct Agent {
    pub org: Uuid,
    pub project: Uuid,
    pub task_agent: Uuid,
}

impl Agent {
    pub fn new() -> Agent {
        Agent {
            org: Uuid::new_v4(),
            project: Uuid::new_v4(),
            task_agent: Uuid::new_v4(),
        }
    }

    /// A new organization, project and task agent in `database`, in which
    /// [`WRITER`] is a writer and [`READER`] a reader.
    pub async fn with_members(database: &dyn Database) -> Agent {
        let agent = Agent::new();
        for (subject, role) in [(WRITER, Role::Writer), (READER, Role::Reader)] {
            let membership = Membership {
                org_id: agent.org,
                subject: subject.to_owned(),
                role,
            };
            database.put_member(&membership).await.unwrap();
        }
        agent
    }

    /// `list_task_agent_runs` of this task agent, to be given its query.
    pub fn list<'a>(&self, client: &'a Client) -> builder::ListTaskAgentRuns<'a> {
        client
            .list_task_agent_runs()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }

    /// `get_task_agent_run` of this task agent, to be given the run id.
    pub fn get<'a>(&self, client: &'a Client) -> builder::GetTaskAgentRun<'a> {
        client
            .get_task_agent_run()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }

    /// `put_task_agent_run` of this task agent, to be given the run id and
    /// the body.
    pub fn put<'a>(&self, client: &'a Client) -> builder::PutTaskAgentRun<'a> {
        client
            .put_task_agent_run()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }

    /// Another task agent in the same project.
    pub fn sibling(&self) -> Agent {
        Agent {
            task_agent: Uuid::new_v4(),
            ..*self
        }
    }

    /// `/api/v1/org/.../run`.
    pub fn runs_path(&self) -> String {
        TaskAgentPath {
            org_id: self.org,
            project_id: self.project,
            task_agent_id: self.task_agent,
        }
        .runs_path()
    }

    /// `/api/v1/org/.../run/{run_id}`.
    pub fn run_path(&self, run_id: Uuid) -> String {
        RunPath {
            org_id: self.org,
            project_id: self.project,
            task_agent_id: self.task_agent,
            run_id,
        }
        .path()
    }
}

/// An instant in a fixed day, `minutes` after its start.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// The smallest valid body: a completed run created at `created`.
pub fn minimal_run(created: DateTime<Utc>) -> Value {
    json!({
        "session_id": "session-1",
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "created": created,
        "completed": created + Duration::seconds(3),
        "status": "completed",
    })
}

/// A run with every field set and every nested list filled.
pub fn full_run(created: DateTime<Utc>) -> Value {
    let later = |ms: i64| created + Duration::milliseconds(ms);
    json!({
        "session_id": "session-full",
        "user_id": Uuid::new_v4(),
        "input_tokens": 1830,
        "output_tokens": 412,
        "total_tokens": 2242,
        "charged_credits": "0.0450",
        "total_charged_credits": "1.2500",
        "created": created,
        "completed": later(18_395),
        "last_activity_at": later(18_000),
        "duration_ms": 18_395,
        "status": "failed",
        "is_error": true,
        "task_agent_revision_id": Uuid::new_v4(),
        "primary_llm_model_id": Uuid::new_v4(),
        "fallback_llm_model_id": Uuid::new_v4(),
        "invocation_id": format!("e-{}", Uuid::new_v4()),
        "is_continuation": true,
        "used_fallback_model": true,
        "had_task_tool_fail": true,
        "had_mcp_tool_fail": true,
        "had_integration_tool_fail": true,
        "primary_failure_reason": "rate_limited",
        "termination_reason": "tool_error",
        "task_tools_invoked": [
            {"task_id": Uuid::new_v4(), "task_name": "summarise", "task_run_id": Uuid::new_v4(), "is_error": false, "duration_ms": 2410, "error": null},
            {"task_id": Uuid::new_v4(), "task_name": "classify", "task_run_id": null, "is_error": true, "duration_ms": null, "error": "timed out"}
        ],
        "mcp_tools_invoked": [
            {"mcp_server_id": Uuid::new_v4(), "server_name": "github", "tool_name": "search_issues", "is_error": true, "duration_ms": 640, "error": "502"},
            {"mcp_server_id": Uuid::new_v4(), "server_name": null, "tool_name": "fetch", "is_error": false, "duration_ms": null, "error": null}
        ],
        "integration_tools_invoked": [
            {"project_integration_id": Uuid::new_v4(), "tool_name": "send_slack_message", "is_error": true, "duration_ms": 120, "error": "channel not found"}
        ],
        "skills_activated": [
            {"skill_id": Uuid::new_v4(), "skill_revision_id": Uuid::new_v4(), "name": "triage", "activated_at": later(5)},
            {"skill_id": Uuid::new_v4(), "skill_revision_id": null, "name": "écrire ✍", "activated_at": null}
        ],
        "phase_timings": [
            {"phase": "llm", "started_at": later(10), "duration_ms": 9120},
            {"phase": "tool_execution", "started_at": later(9_130), "duration_ms": 3050},
            {"phase": "memory_compaction", "started_at": later(12_180), "duration_ms": 410}
        ],
        "context_usage": {"used_tokens": 51_200, "context_window": 200_000, "compactions": 2},
        "model_usages": [
            {"llm_model_id": Uuid::new_v4(), "model_name": "gpt-5-mini", "is_fallback": false, "input_tokens": 830, "output_tokens": 12, "total_tokens": 842, "charged_credits": "0.0100"},
            {"llm_model_id": Uuid::new_v4(), "model_name": "claude-haiku", "is_fallback": true, "input_tokens": 1000, "output_tokens": 400, "total_tokens": 1400, "charged_credits": null}
        ],
        "files": [
            {"id": Uuid::new_v4(), "filename": "input.pdf", "content_type": "application/pdf", "size_bytes": 48_213, "source": "uploaded", "created": created},
            {"id": Uuid::new_v4(), "filename": "summary.md", "content_type": "text/markdown", "size_bytes": 1834, "source": "generated", "created": later(18_000)}
        ]
    })
}

/// PUTs `body` as run `run_id` of `agent` through `client`, with an
/// optional `If-Match`.
pub async fn put_with(
    client: &Client,
    agent: &Agent,
    run_id: Uuid,
    body: &Value,
    if_match: Option<&str>,
) -> Result<ResponseValue<TaskAgentRun>, task_agent_client::Error<types::Error>> {
    let mut request = agent.put(client).run_id(run_id).body(write_body(body));
    if let Some(condition) = if_match {
        request = request.if_match(condition);
    }
    request.send().await
}

/// The typed body the generated client sends.
pub fn write_body(value: &Value) -> TaskAgentRunWrite {
    serde_json::from_value(value.clone()).expect("a valid TaskAgentRunWrite")
}

impl TestServer {
    /// Writes `body` as run `run_id` of `agent` through the generated client.
    pub async fn put_run(&self, agent: &Agent, run_id: Uuid, body: &Value) -> TaskAgentRun {
        agent
            .put(&self.client)
            .run_id(run_id)
            .body(write_body(body))
            .send()
            .await
            .unwrap_or_else(|error| panic!("PUT {run_id}: {error}"))
            .into_inner()
    }

    /// Reads run `run_id` of `agent` through the generated client.
    pub async fn get_run(&self, agent: &Agent, run_id: Uuid) -> TaskAgentRun {
        agent
            .get(&self.client)
            .run_id(run_id)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {run_id}: {error}"))
            .into_inner()
    }
}
