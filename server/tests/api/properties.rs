//! Property: any valid run survives the trip through the server and the
//! generated client unchanged, but for its timestamps, which the API keeps to
//! the millisecond.

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Backend, TestServer, write_body};

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_000_000_000i64..250_000_000_000i64, 0..1_000_000_000u32)
        .prop_map(|(seconds, nanos)| Utc.timestamp_opt(seconds, nanos).single().unwrap())
}

/// `run` as the server keeps it: every timestamp, wherever it is, cut to the
/// millisecond (any string that reads as one is a timestamp: no other text
/// the strategies make does).
fn to_the_millisecond(run: &mut Value) {
    match run {
        Value::String(text) => {
            if let Ok(instant) = text.parse::<DateTime<Utc>>() {
                *run = json!(instant.trunc_subsecs(3));
            }
        }
        Value::Object(object) => object.values_mut().for_each(to_the_millisecond),
        Value::Array(items) => items.iter_mut().for_each(to_the_millisecond),
        _ => {}
    }
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

/// A valid decimal string: sign, digits, a point, digits (at least one digit).
fn decimal() -> impl Strategy<Value = String> {
    ("[+-]?", "[0-9]{0,6}", any::<bool>(), "[0-9]{0,6}").prop_filter_map(
        "at least one digit",
        |(sign, whole, point, fraction)| {
            let text = format!("{sign}{whole}{}{fraction}", if point { "." } else { "" });
            let digits = text.chars().any(|c| c.is_ascii_digit());
            (digits && (point || fraction.is_empty())).then_some(text)
        },
    )
}

fn count() -> impl Strategy<Value = i64> {
    prop_oneof![0..100_000i64, Just(0i64), Just(i64::MAX / 4)]
}

fn text() -> impl Strategy<Value = String> {
    ".{0,24}"
}

fn nullable<S: Strategy>(strategy: S) -> impl Strategy<Value = Value>
where
    S::Value: serde::Serialize,
{
    proptest::option::of(strategy).prop_map(|value| json!(value))
}

prop_compose! {
    fn task_tool()(task_id in uuid(), task_name in text(), task_run_id in nullable(uuid()), is_error in any::<bool>(),
                   duration_ms in nullable(count()), error in nullable(text())) -> Value {
        json!({"task_id": task_id, "task_name": task_name, "task_run_id": task_run_id, "is_error": is_error,
               "duration_ms": duration_ms, "error": error})
    }
}

prop_compose! {
    fn mcp_tool()(mcp_server_id in uuid(), server_name in nullable(text()), tool_name in text(), is_error in any::<bool>(),
                  duration_ms in nullable(count()), error in nullable(text())) -> Value {
        json!({"mcp_server_id": mcp_server_id, "server_name": server_name, "tool_name": tool_name,
               "is_error": is_error, "duration_ms": duration_ms, "error": error})
    }
}

prop_compose! {
    fn integration_tool()(project_integration_id in uuid(), tool_name in text(), is_error in any::<bool>(),
                          duration_ms in nullable(count()), error in nullable(text())) -> Value {
        json!({"project_integration_id": project_integration_id, "tool_name": tool_name, "is_error": is_error,
               "duration_ms": duration_ms, "error": error})
    }
}

prop_compose! {
    fn skill()(skill_id in uuid(), skill_revision_id in nullable(uuid()), name in text(),
               activated_at in nullable(instant())) -> Value {
        json!({"skill_id": skill_id, "skill_revision_id": skill_revision_id, "name": name, "activated_at": activated_at})
    }
}

prop_compose! {
    fn phase()(phase in text(), started_at in instant(), duration_ms in count()) -> Value {
        json!({"phase": phase, "started_at": started_at, "duration_ms": duration_ms})
    }
}

prop_compose! {
    fn model_usage()(llm_model_id in uuid(), model_name in text(), is_fallback in any::<bool>(),
                     input_tokens in count(), output_tokens in count(), total_tokens in count(),
                     charged_credits in nullable(decimal())) -> Value {
        json!({"llm_model_id": llm_model_id, "model_name": model_name, "is_fallback": is_fallback,
               "input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total_tokens,
               "charged_credits": charged_credits})
    }
}

prop_compose! {
    fn file()(id in uuid(), filename in text(), content_type in text(), size_bytes in count(),
              uploaded in any::<bool>(), created in instant()) -> Value {
        json!({"id": id, "filename": filename, "content_type": content_type, "size_bytes": size_bytes,
               "source": if uploaded { "uploaded" } else { "generated" }, "created": created})
    }
}

prop_compose! {
    /// Any run that keeps every rule, with every field set or null.
    fn valid_run()(
        session_id in "[^\\x00]{1,128}",
        user_id in nullable(uuid()),
        (input_tokens, output_tokens) in (count(), count()),
        charged_credits in nullable(decimal()),
        total_charged_credits in nullable(decimal()),
        created in instant(),
        status in 0..5usize,
        completed_after in 0..10_000_000i64,
        last_activity_after in proptest::option::of(0..10_000_000i64),
        duration_ms in nullable(count()),
        flags in proptest::array::uniform6(any::<bool>()),
        ids in proptest::array::uniform3(nullable(uuid())),
        invocation_id in nullable(text()),
        reasons in proptest::array::uniform2(nullable(text())),
        task_tools in proptest::option::of(proptest::collection::vec(task_tool(), 0..4)),
        mcp_tools in proptest::option::of(proptest::collection::vec(mcp_tool(), 0..4)),
        integration_tools in proptest::option::of(proptest::collection::vec(integration_tool(), 0..3)),
        skills in proptest::option::of(proptest::collection::vec(skill(), 0..3)),
        phases in proptest::option::of(proptest::collection::vec(phase(), 0..5)),
        context in proptest::option::of((count(), count(), 0..10i64)),
        model_usages in proptest::collection::vec(model_usage(), 0..3),
        files in proptest::collection::vec(file(), 0..3),
    ) -> Value {
        let status = ["pending", "running", "completed", "failed", "cancelled"][status];
        let terminal = status != "pending" && status != "running";
        let completed = terminal.then(|| created + Duration::milliseconds(completed_after));
        let last_activity_at = last_activity_after.map(|ms| created + Duration::milliseconds(ms));
        json!({
            "session_id": session_id, "user_id": user_id,
            "input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens,
            "charged_credits": charged_credits, "total_charged_credits": total_charged_credits,
            "created": created, "completed": completed, "last_activity_at": last_activity_at,
            "duration_ms": duration_ms, "status": status, "is_error": flags[0],
            "task_agent_revision_id": ids[0], "primary_llm_model_id": ids[1], "fallback_llm_model_id": ids[2],
            "invocation_id": invocation_id, "is_continuation": flags[1], "used_fallback_model": flags[2],
            "had_task_tool_fail": flags[3], "had_mcp_tool_fail": flags[4], "had_integration_tool_fail": flags[5],
            "primary_failure_reason": reasons[0], "termination_reason": reasons[1],
            "task_tools_invoked": task_tools, "mcp_tools_invoked": mcp_tools,
            "integration_tools_invoked": integration_tools, "skills_activated": skills, "phase_timings": phases,
            "context_usage": context.map(|(used_tokens, context_window, compactions)| json!({
                "used_tokens": used_tokens, "context_window": context_window, "compactions": compactions,
            })),
            "model_usages": model_usages, "files": files,
        })
    }
}

fn any_valid_run_round_trips_through_server_and_client(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start(backend));
    let agent = runtime.block_on(server.agent());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&valid_run(), |body| {
            let run_id = Uuid::new_v4();
            let mut expected = body.clone();
            to_the_millisecond(&mut expected);
            expected["id"] = json!(run_id);
            expected["task_agent_id"] = json!(agent.task_agent);
            let (written, read) = runtime.block_on(async {
                let written = agent
                    .put(&server.client)
                    .run_id(run_id)
                    .body(write_body(&body))
                    .send()
                    .await
                    .map_err(|error| TestCaseError::fail(format!("PUT failed: {error}")))?
                    .into_inner();
                Ok::<_, TestCaseError>((written, server.get_run(&agent, run_id).await))
            })?;
            prop_assert_eq!(
                &serde_json::to_value(&written).unwrap(),
                &expected,
                "the PUT response"
            );
            prop_assert_eq!(
                &serde_json::to_value(&read).unwrap(),
                &expected,
                "the GET response"
            );
            Ok(())
        })
        .unwrap();
    runtime.block_on(async move { drop(server) });
}

mod sqlite {
    #[test]
    fn any_valid_run_round_trips_through_server_and_client() {
        super::any_valid_run_round_trips_through_server_and_client(crate::support::Backend::Sqlite)
    }
}

mod postgres {
    #[test]
    fn any_valid_run_round_trips_through_server_and_client() {
        if let Some(backend) = crate::support::Backend::postgres_or_skip(
            "any_valid_run_round_trips_through_server_and_client",
        ) {
            super::any_valid_run_round_trips_through_server_and_client(backend)
        }
    }
}
