//! Runs to write in tests, as the JSON a writer sends: pure data, valid
//! by the rules of the API, at fixed instants so that orders are known.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use task_agent_client::types::TaskAgentRunWrite;
use uuid::Uuid;

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

/// The typed body the generated client sends.
///
/// # Panics
///
/// If `value` is not a valid body.
pub fn write_body(value: &Value) -> TaskAgentRunWrite {
    serde_json::from_value(value.clone()).expect("a valid TaskAgentRunWrite")
}
