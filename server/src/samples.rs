//! Realistic sample runs, generated deterministically: run `i` of a given
//! seed is always the same, whatever else is generated. The demo seeds its
//! database with them; `cargo xbench sample-runs` writes them as NDJSON for
//! `import` and for benchmarks.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::api::{
    ContextUsage, Decimal, IntegrationToolInvocation, McpToolInvocation, ModelUsage, PhaseTiming,
    RunFile, RunFileSource, RunPath, RunStatus, SessionId, SkillActivation, TaskAgentRunWrite,
    TaskToolInvocation,
};

const TASK_NAMES: [&str; 5] = [
    "summarise-ticket",
    "classify-intent",
    "draft-reply",
    "extract-entities",
    "translate",
];
const MCP_TOOLS: [(&str, &str); 4] = [
    ("github", "search_issues"),
    ("github", "get_pull_request"),
    ("linear", "create_issue"),
    ("notion", "query"),
];
const MODELS: [(&str, i64); 3] = [
    ("gpt-5-mini", 200_000),
    ("claude-haiku", 200_000),
    ("gemini-flash", 1_000_000),
];
const PHASES: [&str; 4] = ["llm", "tool_execution", "memory_compaction", "llm"];

/// A deterministic source of sample runs for one organization and project.
#[derive(Clone, Debug)]
pub struct SampleRuns {
    pub seed: u64,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub task_agents: Vec<Uuid>,
    /// `created` of run 0; later runs are newer.
    pub start: DateTime<Utc>,
    /// Time between two consecutive runs.
    pub spacing: Duration,
}

/// A small, fast, well-mixed generator (splitmix64): no dependency, and the
/// same numbers on every platform.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % u64::try_from(high - low + 1).expect("low <= high")) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(
            ((u128::from(self.next()) << 64) | u128::from(self.next())).to_be_bytes(),
        )
        .into_uuid()
    }
}

impl SampleRuns {
    /// Sample runs of `task_agents` task agents, ids derived from `seed`.
    pub fn new(seed: u64, task_agents: usize) -> SampleRuns {
        let mut ids = Mix(seed ^ 0x5eed);
        SampleRuns {
            seed,
            org_id: ids.uuid(),
            project_id: ids.uuid(),
            task_agents: (0..task_agents.max(1)).map(|_| ids.uuid()).collect(),
            start: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("a valid instant"),
            spacing: Duration::seconds(7),
        }
    }

    /// Run `index`: its path and its body.
    pub fn run(&self, index: u64) -> (RunPath, TaskAgentRunWrite) {
        let mut mix = Mix(self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ index);
        // Traffic is skewed: the first task agent gets half of the runs, and
        // its share of the other half.
        let agent = if mix.chance(50) {
            0
        } else {
            (mix.next() % self.task_agents.len() as u64) as usize
        };
        let path = RunPath {
            org_id: self.org_id,
            project_id: self.project_id,
            task_agent_id: self.task_agents[agent],
            run_id: mix.uuid(),
        };
        let created =
            self.start + self.spacing * i32::try_from(index % i32::MAX as u64).expect("in range");
        let status = match mix.next() % 100 {
            0..=79 => RunStatus::Completed,
            80..=89 => RunStatus::Failed,
            90..=94 => RunStatus::Cancelled,
            95..=97 => RunStatus::Running,
            _ => RunStatus::Pending,
        };
        let at = |ms: i64| created + Duration::milliseconds(ms);
        let duration_ms = mix.between(1_500, 90_000);
        let failed = status == RunStatus::Failed;
        let used_fallback = mix.chance(8);
        let task_tools: Vec<TaskToolInvocation> = (0..mix.between(2, 5))
            .map(|_| {
                let is_error = failed && mix.chance(30);
                TaskToolInvocation {
                    task_id: mix.uuid(),
                    task_name: mix.pick(&TASK_NAMES).to_owned(),
                    task_run_id: (!is_error).then(|| mix.uuid()),
                    is_error,
                    duration_ms: Some(mix.between(200, 8_000)),
                    error: is_error.then(|| "the task timed out".to_owned()),
                }
            })
            .collect();
        let mcp_tools: Vec<McpToolInvocation> = (0..mix.between(1, 3))
            .map(|_| {
                let (server, tool) = mix.pick(&MCP_TOOLS);
                let is_error = failed && mix.chance(40);
                McpToolInvocation {
                    mcp_server_id: mix.uuid(),
                    server_name: Some(server.to_owned()),
                    tool_name: tool.to_owned(),
                    is_error,
                    duration_ms: Some(mix.between(50, 3_000)),
                    error: is_error.then(|| "upstream returned 502".to_owned()),
                }
            })
            .collect();
        let integration_tools = mix.chance(30).then(|| {
            vec![IntegrationToolInvocation {
                project_integration_id: mix.uuid(),
                tool_name: "send_slack_message".to_owned(),
                is_error: false,
                duration_ms: Some(mix.between(80, 900)),
                error: None,
            }]
        });
        let skills = mix.chance(25).then(|| {
            vec![SkillActivation {
                skill_id: mix.uuid(),
                skill_revision_id: Some(mix.uuid()),
                name: "triage".to_owned(),
                activated_at: Some(at(5)),
            }]
        });
        let mut offset = 10;
        let phases: Vec<PhaseTiming> = (0..mix.between(3, 7))
            .map(|n| {
                let duration = mix.between(100, 20_000);
                let phase = PhaseTiming {
                    phase: PHASES[n as usize % PHASES.len()].to_owned(),
                    started_at: at(offset),
                    duration_ms: duration,
                };
                offset += duration;
                phase
            })
            .collect();
        let (primary_model, fallback_model) = (mix.uuid(), mix.uuid());
        let mut model_usages = Vec::new();
        let (mut input_tokens, mut output_tokens, mut micro_credits) = (0, 0, 0);
        for is_fallback in [false, true]
            .into_iter()
            .take(if used_fallback { 2 } else { 1 })
        {
            let (name, _) = mix.pick(&MODELS);
            let (input, output) = (mix.between(300, 12_000), mix.between(50, 3_000));
            let credits = input * 2 + output * 8;
            input_tokens += input;
            output_tokens += output;
            micro_credits += credits;
            model_usages.push(ModelUsage {
                llm_model_id: if is_fallback {
                    fallback_model
                } else {
                    primary_model
                },
                model_name: name.to_owned(),
                is_fallback,
                input_tokens: input,
                output_tokens: output,
                total_tokens: input + output,
                charged_credits: Some(micro(credits)),
            });
        }
        let files: Vec<RunFile> = (0..mix.between(0, 3))
            .map(|n| RunFile {
                id: mix.uuid(),
                filename: format!("attachment-{n}.pdf"),
                content_type: "application/pdf".to_owned(),
                size_bytes: mix.between(1_000, 5_000_000),
                source: if n == 0 {
                    RunFileSource::Uploaded
                } else {
                    RunFileSource::Generated
                },
                created: at(offset),
            })
            .collect();
        let session_id = SessionId(format!("session-{}", index / 3));
        if status == RunStatus::Pending {
            return (path, not_started(session_id, created));
        }
        let terminal = status.is_terminal();
        let had_task_tool_fail = task_tools.iter().any(|call| call.is_error);
        let had_mcp_tool_fail = mcp_tools.iter().any(|call| call.is_error);
        let write = TaskAgentRunWrite {
            session_id,
            user_id: Some(mix.uuid()),
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            charged_credits: Some(micro(micro_credits)),
            total_charged_credits: Some(micro(micro_credits * if mix.chance(20) { 2 } else { 1 })),
            created,
            completed: terminal.then(|| at(duration_ms)),
            last_activity_at: Some(at(if terminal {
                duration_ms
            } else {
                duration_ms / 2
            })),
            duration_ms: terminal.then_some(duration_ms),
            status,
            is_error: failed,
            task_agent_revision_id: Some(Uuid::from_u128(
                self.task_agents[agent].as_u128() ^ (index / 10_000) as u128,
            )),
            primary_llm_model_id: Some(primary_model),
            fallback_llm_model_id: used_fallback.then_some(fallback_model),
            invocation_id: Some(format!("e-{}", mix.uuid())),
            is_continuation: !index.is_multiple_of(3),
            used_fallback_model: used_fallback,
            had_task_tool_fail,
            had_mcp_tool_fail,
            had_integration_tool_fail: false,
            primary_failure_reason: used_fallback.then(|| "rate_limited".to_owned()),
            termination_reason: match status {
                RunStatus::Failed => Some("tool_error".to_owned()),
                RunStatus::Cancelled => Some("cancelled_by_user".to_owned()),
                _ => None,
            },
            task_tools_invoked: Some(task_tools),
            mcp_tools_invoked: Some(mcp_tools),
            integration_tools_invoked: integration_tools,
            skills_activated: skills,
            phase_timings: Some(phases),
            context_usage: Some(ContextUsage {
                used_tokens: input_tokens + 2_000,
                context_window: 200_000,
                compactions: mix.between(0, 2),
            }),
            model_usages,
            files,
        };
        (path, write)
    }

    /// Run `index` as an `import` line: the body with the ids of its path.
    pub fn import_line(&self, index: u64) -> String {
        let (path, write) = self.run(index);
        let mut line = Map::new();
        line.insert("org_id".to_owned(), Value::String(path.org_id.to_string()));
        line.insert(
            "project_id".to_owned(),
            Value::String(path.project_id.to_string()),
        );
        line.insert(
            "task_agent_id".to_owned(),
            Value::String(path.task_agent_id.to_string()),
        );
        line.insert("id".to_owned(), Value::String(path.run_id.to_string()));
        if let Value::Object(fields) = serde_json::to_value(&write).expect("a run serializes") {
            line.extend(fields);
        }
        Value::Object(line).to_string()
    }
}

/// A run that is queued but has not started: nothing of it is known yet but
/// its session and when it was created, so every nullable field is null and
/// every list empty (the samples show clients every null the contract allows).
fn not_started(session_id: SessionId, created: DateTime<Utc>) -> TaskAgentRunWrite {
    TaskAgentRunWrite {
        session_id,
        user_id: None,
        input_tokens: 0,
        output_tokens: 0,
        total_tokens: 0,
        charged_credits: None,
        total_charged_credits: None,
        created,
        completed: None,
        last_activity_at: None,
        duration_ms: None,
        status: RunStatus::Pending,
        is_error: false,
        task_agent_revision_id: None,
        primary_llm_model_id: None,
        fallback_llm_model_id: None,
        invocation_id: None,
        is_continuation: false,
        used_fallback_model: false,
        had_task_tool_fail: false,
        had_mcp_tool_fail: false,
        had_integration_tool_fail: false,
        primary_failure_reason: None,
        termination_reason: None,
        task_tools_invoked: None,
        mcp_tools_invoked: None,
        integration_tools_invoked: None,
        skills_activated: None,
        phase_timings: None,
        context_usage: None,
        model_usages: Vec::new(),
        files: Vec::new(),
    }
}

/// Millionths of a credit as a decimal string.
fn micro(amount: i64) -> Decimal {
    Decimal(format!("{}.{:06}", amount / 1_000_000, amount % 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::validate_run;

    #[test]
    fn samples_are_valid_deterministic_and_varied() {
        let samples = SampleRuns::new(7, 4);
        let mut statuses = std::collections::HashSet::new();
        for index in 0..500 {
            let (path, write) = samples.run(index);
            validate_run(&write).unwrap_or_else(|error| panic!("sample {index}: {error}"));
            assert_eq!(
                samples.run(index),
                (path, write.clone()),
                "the same run every time"
            );
            statuses.insert(write.status);
        }
        assert_eq!(statuses.len(), 5, "every status appears");
        assert_ne!(
            SampleRuns::new(8, 4).run(0).0,
            samples.run(0).0,
            "another seed, other runs"
        );
    }
}
