//! `task-agent-server demo`: a server on SQLite with sample runs, and the
//! commands to try it.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use clap::Args;
use uuid::Uuid;

use crate::api::{
    ContextUsage, Decimal, McpToolInvocation, ModelUsage, PhaseTiming, RunFile, RunFileSource,
    RunPath, RunStatus, SessionId, TaskAgentRunWrite, TaskToolInvocation,
};
use crate::auth::{TokenRequest, WRITE_SCOPE};
use crate::database_url::DatabaseUrl;
use crate::runs;
use crate::server::{AuthConfig, TokenIssuer};
use crate::storage::{Database, Membership, Role};

/// The sample organization, project and task agents (fixed, so that the
/// printed commands work on every run of the demo).
pub const DEMO_ORG: Uuid = Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0001);
pub const DEMO_PROJECT: Uuid = Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0002);
pub const DEMO_TASK_AGENTS: [Uuid; 2] = [
    Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_00a1),
    Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_00a2),
];

/// The subject of the printed reader token.
pub const DEMO_READER: &str = "demo-reader";
/// A subject with the writer role, for trying `PUT`.
pub const DEMO_WRITER: &str = "demo-writer";

/// How many sample runs each task agent gets.
const RUNS_PER_TASK_AGENT: u128 = 30;

/// Flags of `demo`.
#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Address to listen on; if it is taken, a free port is used instead
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Directory for the demo's database
    #[arg(long, default_value = "data/demo")]
    pub data_dir: PathBuf,
}

/// The sample runs: a mix of statuses, tool calls, fallbacks and files.
pub fn sample_runs() -> Vec<(RunPath, TaskAgentRunWrite)> {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
        .single()
        .expect("a valid instant");
    let primary_model = Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0b01);
    let fallback_model = Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0b02);
    let mut samples = Vec::new();
    for (agent_index, task_agent_id) in DEMO_TASK_AGENTS.into_iter().enumerate() {
        for i in 0..RUNS_PER_TASK_AGENT {
            let run_id = Uuid::from_u128(
                0x0d3e_0000_0000_4000_8000_0000_0001_0000 + (agent_index as u128) * 0x1000 + i,
            );
            let created = start + Duration::minutes(i as i64 * 7 + agent_index as i64);
            let status = match i % 10 {
                0 => RunStatus::Running,
                3 => RunStatus::Failed,
                7 => RunStatus::Cancelled,
                _ => RunStatus::Completed,
            };
            let used_fallback = i % 6 == 5;
            let duration_ms = 4_000 + (i as i64 * 1_337) % 20_000;
            let completed = status
                .is_terminal()
                .then(|| created + Duration::milliseconds(duration_ms));
            let input_tokens = 900 + (i as i64 * 211) % 4_000;
            let output_tokens = 120 + (i as i64 * 97) % 900;
            let credits = Decimal(format!("0.{:04}", (input_tokens + output_tokens) / 10));
            let mcp_fail = i % 10 == 3;
            let at = |offset_ms: i64| created + Duration::milliseconds(offset_ms);
            let write = TaskAgentRunWrite {
                session_id: SessionId(format!("demo-session-{}", i / 3)),
                user_id: Some(Uuid::from_u128(
                    0x0d3e_0000_0000_4000_8000_0000_0000_0c00 + i % 4,
                )),
                input_tokens,
                output_tokens,
                total_tokens: input_tokens + output_tokens,
                charged_credits: Some(credits.clone()),
                total_charged_credits: Some(credits.clone()),
                created,
                completed,
                last_activity_at: Some(completed.unwrap_or_else(|| at(duration_ms / 2))),
                duration_ms: status.is_terminal().then_some(duration_ms),
                status,
                is_error: status == RunStatus::Failed,
                task_agent_revision_id: Some(Uuid::from_u128(
                    0x0d3e_0000_0000_4000_8000_0000_0000_0d00 + i / 10,
                )),
                primary_llm_model_id: Some(primary_model),
                fallback_llm_model_id: used_fallback.then_some(fallback_model),
                invocation_id: Some(format!("e-{}", Uuid::from_u128(run_id.as_u128() ^ 0xffff))),
                is_continuation: i % 3 != 0,
                used_fallback_model: used_fallback,
                had_task_tool_fail: false,
                had_mcp_tool_fail: mcp_fail,
                had_integration_tool_fail: false,
                primary_failure_reason: used_fallback.then(|| "rate_limited".to_owned()),
                termination_reason: match status {
                    RunStatus::Failed => Some("mcp_tool_error".to_owned()),
                    RunStatus::Cancelled => Some("cancelled_by_user".to_owned()),
                    _ => None,
                },
                task_tools_invoked: Some(vec![TaskToolInvocation {
                    task_id: Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0e01),
                    task_name: "summarise-ticket".to_owned(),
                    task_run_id: Some(Uuid::from_u128(run_id.as_u128() ^ 0xaaaa)),
                    is_error: false,
                    duration_ms: Some(1_200 + (i as i64 * 37) % 800),
                    error: None,
                }]),
                mcp_tools_invoked: Some(vec![McpToolInvocation {
                    mcp_server_id: Uuid::from_u128(0x0d3e_0000_0000_4000_8000_0000_0000_0f01),
                    server_name: Some("github".to_owned()),
                    tool_name: "search_issues".to_owned(),
                    is_error: mcp_fail,
                    duration_ms: Some(300 + (i as i64 * 53) % 700),
                    error: mcp_fail.then(|| "upstream returned 502".to_owned()),
                }]),
                integration_tools_invoked: None,
                skills_activated: None,
                phase_timings: Some(vec![
                    PhaseTiming {
                        phase: "llm".to_owned(),
                        started_at: at(10),
                        duration_ms: duration_ms / 2,
                    },
                    PhaseTiming {
                        phase: "tool_execution".to_owned(),
                        started_at: at(10 + duration_ms / 2),
                        duration_ms: duration_ms / 3,
                    },
                ]),
                context_usage: Some(ContextUsage {
                    used_tokens: input_tokens + 2_000,
                    context_window: 200_000,
                    compactions: (i % 5 == 4) as i64,
                }),
                model_usages: vec![ModelUsage {
                    llm_model_id: if used_fallback {
                        fallback_model
                    } else {
                        primary_model
                    },
                    model_name: if used_fallback {
                        "claude-haiku"
                    } else {
                        "gpt-5-mini"
                    }
                    .to_owned(),
                    is_fallback: used_fallback,
                    input_tokens,
                    output_tokens,
                    total_tokens: input_tokens + output_tokens,
                    charged_credits: Some(credits),
                }],
                files: if status == RunStatus::Completed {
                    vec![RunFile {
                        id: Uuid::from_u128(run_id.as_u128() ^ 0x5555),
                        filename: "summary.md".to_owned(),
                        content_type: "text/markdown".to_owned(),
                        size_bytes: 800 + (i as i64 * 71) % 3_000,
                        source: RunFileSource::Generated,
                        created: completed.unwrap_or(created),
                    }]
                } else {
                    Vec::new()
                },
            };
            samples.push((
                RunPath {
                    org_id: DEMO_ORG,
                    project_id: DEMO_PROJECT,
                    task_agent_id,
                    run_id,
                },
                write,
            ));
        }
    }
    samples
}

/// Writes the sample runs (again: an unchanged sample is left as it is) and
/// the demo memberships.
pub async fn seed(store: &dyn Database) -> anyhow::Result<usize> {
    for (subject, role) in [(DEMO_READER, Role::Reader), (DEMO_WRITER, Role::Writer)] {
        store
            .put_member(&Membership {
                org_id: DEMO_ORG,
                subject: subject.to_owned(),
                role,
            })
            .await?;
    }
    let samples = sample_runs();
    let count = samples.len();
    for (path, write) in samples {
        runs::put_run(store, &path, write, None)
            .await
            .map_err(|error| anyhow::anyhow!("seeding {path:?}: {error}"))?;
    }
    Ok(count)
}

/// The newest sample run (for the printed examples).
pub fn newest_sample() -> RunPath {
    let samples = sample_runs();
    let (path, _) = samples
        .iter()
        .max_by_key(|(_, write)| write.created)
        .expect("there are samples");
    *path
}

/// The demo server's authentication: the development issuer in `data_dir`.
pub fn auth_config(data_dir: &std::path::Path) -> AuthConfig {
    AuthConfig {
        issuer: TokenIssuer::Dev {
            data_dir: data_dir.to_path_buf(),
        },
        audience: None,
        leeway: std::time::Duration::from_secs(30),
        jwks_refetch_interval: std::time::Duration::from_secs(10),
    }
}

/// The token the demo prints: a reader of the demo organization, for a day.
pub fn reader_token_request() -> TokenRequest {
    TokenRequest {
        subject: DEMO_READER.to_owned(),
        scopes: vec!["task_agent_runs:read".to_owned()],
        audience: Vec::new(),
        ttl: std::time::Duration::from_secs(24 * 3600),
    }
}

/// What to paste next, for a server at `base_url`.
pub fn instructions(
    base_url: &str,
    database: &DatabaseUrl,
    data_dir: &std::path::Path,
    runs: usize,
    reader_token: &str,
) -> String {
    let newest = newest_sample();
    let task_agent = format!(
        "{base_url}/api/v1/org/{}/project/{}/task-agent/{}",
        newest.org_id, newest.project_id, newest.task_agent_id
    );
    format!(
        "\
Task Agent Runs API demo
  server:   {base_url}
  database: {database} ({runs} sample runs)
  tokens:   development issuer, key in {data_dir}

A reader token of the demo organization (valid for 24 hours):
  export TOKEN={reader_token}

Get one run:
  curl -s -H \"Authorization: Bearer $TOKEN\" {task_agent}/run/{run_id}

List the failed runs, 5 per page:
  curl -s -H \"Authorization: Bearer $TOKEN\" '{task_agent}/run?status=failed&page_limit=5'

With the Rust client (from the repository root):
  TASK_AGENT_TOKEN=$TOKEN cargo run -p task-agent-client --example list_runs -- {base_url} {org} {project} {agent}

To write runs, mint a writer token:
  cargo run -p task-agent-server -- token --data-dir {data_dir} --sub {DEMO_WRITER} --scope {WRITE_SCOPE}

Press Ctrl-C to stop.
",
        data_dir = data_dir.display(),
        run_id = newest.run_id,
        org = newest.org_id,
        project = newest.project_id,
        agent = newest.task_agent_id,
    )
}
