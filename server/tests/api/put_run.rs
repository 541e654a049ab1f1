//! `PUT {run path}`: 201 and 200, the round trip, 409, 412, 400 and 422; a
//! refused write never changes the stored run.

use std::time::Duration;
use task_agent_server::api::error_codes;

use serde_json::{Value, json};
use task_agent_server::auth::WRITE_SCOPE;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::support::{
    Agent, Backend, TestServer, WRITER, at, expect_status, full_run, minimal_run, put_with,
};

/// The stored run as raw JSON and its ETag, read over plain HTTP.
async fn stored(server: &TestServer, agent: &Agent, run_id: Uuid) -> (Value, String) {
    let response = server
        .http
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (response.json().await.unwrap(), etag)
}

/// What the server returns for `body` written as `run_id` of `agent`: the
/// body plus the ids from the path.
fn expected(agent: &Agent, run_id: Uuid, body: &Value) -> Value {
    let mut run = body.clone();
    run["id"] = json!(run_id);
    run["task_agent_id"] = json!(agent.task_agent);
    run
}

async fn creating_is_201_and_replacing_is_200(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let running = json!({
        "session_id": "s", "input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
        "created": at(0), "status": "running",
    });
    let created = put_with(&server.client, &agent, run_id, &running, None)
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let first_etag = created.headers()["etag"].clone();

    let completed = minimal_run(at(0));
    let replaced = put_with(&server.client, &agent, run_id, &completed, None)
        .await
        .unwrap();
    assert_eq!(replaced.status().as_u16(), 200);
    assert_ne!(replaced.headers()["etag"], first_etag);
    let (json, etag) = stored(&server, &agent, run_id).await;
    assert_eq!(etag, replaced.headers()["etag"].to_str().unwrap());
    assert_eq!(json["status"], "completed");
}

async fn a_full_run_round_trips_losslessly(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let body = full_run(at(0));
    let returned = server.put_run(&agent, run_id, &body).await;
    let want = expected(&agent, run_id, &body);
    assert_eq!(
        serde_json::to_value(&returned).unwrap(),
        want,
        "the PUT response"
    );
    assert_eq!(
        serde_json::to_value(server.get_run(&agent, run_id).await).unwrap(),
        want,
        "GET through the client"
    );
    assert_eq!(
        stored(&server, &agent, run_id).await.0,
        want,
        "the raw GET body"
    );
    let listed = agent.list(&server.client).send().await.unwrap();
    assert_eq!(
        serde_json::to_value(&listed.results).unwrap(),
        json!([want]),
        "the list"
    );
}

async fn omitted_fields_come_back_as_their_defaults(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let (json, _) = stored(&server, &agent, run_id).await;
    for nullable in [
        "user_id",
        "charged_credits",
        "total_charged_credits",
        "last_activity_at",
        "duration_ms",
        "task_agent_revision_id",
        "primary_llm_model_id",
        "fallback_llm_model_id",
        "invocation_id",
        "primary_failure_reason",
        "termination_reason",
        "task_tools_invoked",
        "mcp_tools_invoked",
        "integration_tools_invoked",
        "skills_activated",
        "phase_timings",
        "context_usage",
    ] {
        assert_eq!(json.get(nullable), Some(&Value::Null), "{nullable}");
    }
    for flag in [
        "is_error",
        "is_continuation",
        "used_fallback_model",
        "had_task_tool_fail",
        "had_mcp_tool_fail",
        "had_integration_tool_fail",
    ] {
        assert_eq!(json.get(flag), Some(&json!(false)), "{flag}");
    }
    assert_eq!(json["model_usages"], json!([]));
    assert_eq!(json["files"], json!([]));
}

async fn a_terminal_run_accepts_its_own_version_and_refuses_changes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let body = minimal_run(at(0));
    server.put_run(&agent, run_id, &body).await;
    let (before, etag) = stored(&server, &agent, run_id).await;

    let replay = put_with(&server.client, &agent, run_id, &body, None)
        .await
        .unwrap();
    assert_eq!(
        replay.status().as_u16(),
        200,
        "repeating the stored version is accepted"
    );
    assert_eq!(replay.headers()["etag"].to_str().unwrap(), etag);

    for status in ["completed", "failed", "cancelled"] {
        let mut terminal = body.clone();
        terminal["status"] = json!(status);
        terminal["session_id"] = json!(format!("terminal-{status}"));
        let terminal_id = Uuid::new_v4();
        server.put_run(&agent, terminal_id, &terminal).await;
        let mut changed = terminal.clone();
        changed["output_tokens"] = json!(6);
        changed["total_tokens"] = json!(16);
        let error = expect_status(
            put_with(&server.client, &agent, terminal_id, &changed, None).await,
            409,
        );
        assert_eq!(error.error_code.as_deref(), Some(error_codes::RUN_TERMINAL));
        assert!(error.message.contains(status), "{}", error.message);
    }
    let mut reopened = body.clone();
    reopened["status"] = json!("running");
    reopened["completed"] = Value::Null;
    expect_status(
        put_with(&server.client, &agent, run_id, &reopened, None).await,
        409,
    );
    assert_eq!(
        stored(&server, &agent, run_id).await,
        (before, etag),
        "the refused writes changed nothing"
    );
}

async fn if_match_guards_replacement(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let mut body = json!({
        "session_id": "s", "input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
        "created": at(0), "status": "running",
    });
    let created = put_with(&server.client, &agent, run_id, &body, None)
        .await
        .unwrap();
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();

    body["input_tokens"] = json!(2);
    body["total_tokens"] = json!(3);
    for stale in ["\"0000\"", &format!("W/{etag}"), "\"a\", \"b\""] {
        let error = expect_status(
            put_with(&server.client, &agent, run_id, &body, Some(stale)).await,
            412,
        );
        assert_eq!(
            error.error_code.as_deref(),
            Some(error_codes::PRECONDITION_FAILED)
        );
    }
    assert_eq!(
        stored(&server, &agent, run_id).await.1,
        etag,
        "a failed precondition changed nothing"
    );

    let replaced = put_with(
        &server.client,
        &agent,
        run_id,
        &body,
        Some(&format!("\"x\", {etag}")),
    )
    .await
    .unwrap();
    assert_eq!(replaced.status().as_u16(), 200);
    let new_etag = replaced.headers()["etag"].to_str().unwrap().to_owned();
    expect_status(
        put_with(&server.client, &agent, run_id, &body, Some(&etag)).await,
        412,
    );

    body["input_tokens"] = json!(3);
    body["total_tokens"] = json!(4);
    let any = put_with(&server.client, &agent, run_id, &body, Some("*"))
        .await
        .unwrap();
    assert_eq!(any.status().as_u16(), 200);
    assert_ne!(any.headers()["etag"].to_str().unwrap(), new_etag);

    let new_run = Uuid::new_v4();
    for condition in ["*", &etag] {
        expect_status(
            put_with(&server.client, &agent, new_run, &body, Some(condition)).await,
            412,
        );
    }
    assert_eq!(
        get_status(&server, &agent, new_run).await,
        404,
        "a failed precondition created nothing"
    );
}

async fn a_malformed_if_match_is_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    for malformed in ["abc", "\"unterminated", "W/abc"] {
        let error = expect_status(
            put_with(
                &server.client,
                &agent,
                run_id,
                &minimal_run(at(1)),
                Some(malformed),
            )
            .await,
            400,
        );
        assert!(error.message.contains("If-Match"), "{}", error.message);
    }
}

/// Sends raw bytes as the body of a PUT.
async fn put_raw(
    server: &TestServer,
    agent: &Agent,
    run_id: Uuid,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    server
        .http
        .put(server.url(&agent.run_path(run_id)))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn a_body_of_the_wrong_shape_is_400_and_changes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let original = json!({
        "session_id": "s", "input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
        "created": at(0), "status": "running",
    });
    server.put_run(&agent, run_id, &original).await;
    let before = stored(&server, &agent, run_id).await;

    let with = |key: &str, value: Value| {
        let mut body = original.clone();
        body[key] = value;
        body.to_string()
    };
    let without = |key: &str| {
        let mut body = original.clone();
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "{\"session_id\": ".to_owned()),
        ("an array", "[]".to_owned()),
        ("a string", "\"run\"".to_owned()),
        ("an unknown field", with("sesion_id", json!("typo"))),
        ("the path's id in the body", with("id", json!(run_id))),
        (
            "an unknown nested field",
            with(
                "context_usage",
                json!({"used_tokens": 1, "context_window": 2, "compactions": 0, "extra": 1}),
            ),
        ),
        (
            "a missing nested field",
            with("phase_timings", json!([{"phase": "llm", "duration_ms": 5}])),
        ),
        (
            "a missing nested nullable field",
            with(
                "model_usages",
                json!([{"llm_model_id": Uuid::new_v4(), "model_name": "m", "is_fallback": false,
                        "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}]),
            ),
        ),
        ("no session_id", without("session_id")),
        ("no status", without("status")),
        ("no created", without("created")),
        ("a string for a count", with("input_tokens", json!("ten"))),
        ("a fraction for a count", with("input_tokens", json!(1.5))),
        (
            "a count beyond int64",
            with("input_tokens", json!(u64::MAX)),
        ),
        ("an unknown status", with("status", json!("paused"))),
        ("a null status", with("status", Value::Null)),
        ("a bad date", with("created", json!("yesterday"))),
        ("a bad uuid", with("user_id", json!("nobody"))),
        (
            "a number for a decimal",
            with("charged_credits", json!(0.5)),
        ),
        ("an object for a list", with("files", json!({}))),
        (
            "an unknown file source",
            with(
                "files",
                json!([{"id": Uuid::new_v4(), "filename": "f", "content_type": "t", "size_bytes": 1, "source": "stolen", "created": at(0)}]),
            ),
        ),
    ];
    for (what, body) in cases {
        let response = put_raw(&server, &agent, run_id, body).await;
        assert_eq!(response.status(), 400, "{what}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {error}"
        );
    }
    let too_large = format!("{{\"session_id\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(
        put_raw(&server, &agent, run_id, too_large).await.status(),
        400,
        "a body over 1 MiB"
    );
    let mut changed = original.clone();
    changed["session_id"] = json!("changed");
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = server
            .http
            .put(server.url(&agent.run_path(run_id)))
            .header("content-type", content_type)
            .body(changed.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "a body sent as {content_type}");
    }
    assert_eq!(
        stored(&server, &agent, run_id).await,
        before,
        "no malformed PUT changed the run"
    );
}

async fn a_body_that_breaks_a_rule_is_422_naming_the_field_and_changes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let original = full_run(at(0));
    let mut running = original.clone();
    running["status"] = json!("running");
    running["completed"] = Value::Null;
    server.put_run(&agent, run_id, &running).await;
    let before = stored(&server, &agent, run_id).await;

    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("total_tokens", |r| r["total_tokens"] = json!(1)),
        ("total_tokens", |r| {
            r["input_tokens"] = json!(i64::MAX);
            r["output_tokens"] = json!(1);
        }),
        ("input_tokens", |r| r["input_tokens"] = json!(-1)),
        ("output_tokens", |r| r["output_tokens"] = json!(-5)),
        ("charged_credits", |r| r["charged_credits"] = json!("1.2.3")),
        ("charged_credits", |r| r["charged_credits"] = json!("")),
        ("charged_credits", |r| r["charged_credits"] = json!("-.")),
        ("total_charged_credits", |r| {
            r["total_charged_credits"] = json!("1e3")
        }),
        ("model_usages[1].charged_credits", |r| {
            r["model_usages"][1]["charged_credits"] = json!("ten")
        }),
        ("model_usages[0].input_tokens", |r| {
            r["model_usages"][0]["input_tokens"] = json!(-1)
        }),
        ("completed", |r| {
            r["status"] = json!("completed");
            r["completed"] = json!(at(-1));
        }),
        ("last_activity_at", |r| {
            r["last_activity_at"] = json!(at(-1))
        }),
        ("completed", |r| r["status"] = json!("failed")),
        ("completed", |r| r["completed"] = json!(at(5))),
        ("session_id", |r| r["session_id"] = json!("")),
        ("session_id", |r| r["session_id"] = json!("é".repeat(129))),
        ("session_id", |r| r["session_id"] = json!("a\u{0}b")),
        ("duration_ms", |r| r["duration_ms"] = json!(-1)),
        ("task_tools_invoked[0].duration_ms", |r| {
            r["task_tools_invoked"][0]["duration_ms"] = json!(-1)
        }),
        ("mcp_tools_invoked[0].duration_ms", |r| {
            r["mcp_tools_invoked"][0]["duration_ms"] = json!(-2)
        }),
        ("integration_tools_invoked[0].duration_ms", |r| {
            r["integration_tools_invoked"][0]["duration_ms"] = json!(-3)
        }),
        ("phase_timings[2].duration_ms", |r| {
            r["phase_timings"][2]["duration_ms"] = json!(-4)
        }),
        ("context_usage.compactions", |r| {
            r["context_usage"]["compactions"] = json!(-1)
        }),
        ("files[1].size_bytes", |r| {
            r["files"][1]["size_bytes"] = json!(-1)
        }),
    ];
    for (field, edit) in cases {
        let mut body = running.clone();
        edit(&mut body);
        let response = put_raw(&server, &agent, run_id, body.to_string()).await;
        assert_eq!(response.status(), 422, "{field}: {body}");
        let error: Value = response.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "{field}: {message}"
        );
        assert_eq!(error["error_code"], error_codes::INVALID_VALUE);
    }
    // A session id of exactly 128 characters (not bytes) is fine.
    let mut longest = running.clone();
    longest["session_id"] = json!("é".repeat(128));
    assert_eq!(
        put_raw(&server, &agent, Uuid::new_v4(), longest.to_string())
            .await
            .status(),
        201
    );
    assert_eq!(
        stored(&server, &agent, run_id).await,
        before,
        "no invalid PUT changed the run"
    );
}

/// Handlers run with `CancelOnDisconnect` (see `server::start`): a PUT whose
/// client goes away while it waits for the database is dropped there. The
/// write must then be whole or absent, and the client's retry must work.
async fn a_write_whose_client_goes_away_is_whole_or_absent(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let body = full_run(at(0));
    let text = body.to_string();
    let token = server.idp.token(WRITER, &["openid", WRITE_SCOPE]);
    let blocker = server.block_writes().await;
    let mut client = TcpStream::connect(server.server_address()).await.unwrap();
    client
        .write_all(
            format!(
                "PUT {} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                agent.run_path(run_id),
                text.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // The handler is now waiting for the database; its client goes away.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(client);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(blocker);

    let after = server
        .http
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    match after.status().as_u16() {
        404 => {}
        200 => assert_eq!(
            after.json::<Value>().await.unwrap(),
            expected(&agent, run_id, &body),
            "a write that went through is whole"
        ),
        other => panic!("neither whole nor absent: {other}"),
    }
    let retried = put_with(&server.client, &agent, run_id, &body, None)
        .await
        .unwrap();
    assert!(
        [200, 201].contains(&retried.status().as_u16()),
        "the retry is applied: {}",
        retried.status()
    );
    assert_eq!(
        stored(&server, &agent, run_id).await.0,
        expected(&agent, run_id, &body)
    );
}

/// A concurrent PUT: the run, its body and its `If-Match`.
type Put = (Uuid, Value, Option<String>);

/// Sends every PUT at once through the generated client; the status of
/// each, in order, and the ETag of each 2xx.
async fn put_concurrently(
    server: &TestServer,
    agent: &Agent,
    puts: Vec<Put>,
) -> Vec<(u16, String)> {
    let tasks: Vec<_> = puts
        .into_iter()
        .map(|(run_id, body, if_match)| {
            let (client, agent) = (server.client.clone(), *agent);
            tokio::spawn(async move {
                match put_with(&client, &agent, run_id, &body, if_match.as_deref()).await {
                    Ok(response) => (
                        response.status().as_u16(),
                        response.headers()["etag"].to_str().unwrap().to_owned(),
                    ),
                    Err(task_agent_client::Error::ErrorResponse(response)) => {
                        (response.status().as_u16(), String::new())
                    }
                    Err(other) => panic!("PUT {run_id}: {other}"),
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// A running run whose body differs with `tokens`.
fn running(tokens: i64) -> Value {
    json!({
        "session_id": "s", "input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens,
        "created": at(0), "status": "running",
    })
}

/// Concurrent writes may share a transaction (group commit); each is still
/// answered on its own.
async fn concurrent_puts_of_distinct_runs_are_each_created_then_replaced(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let runs: Vec<Uuid> = (0..64).map(|_| Uuid::new_v4()).collect();
    let creates = runs.iter().map(|id| (*id, running(1), None)).collect();
    let created = put_concurrently(&server, &agent, creates).await;
    assert!(
        created.iter().all(|(status, _)| *status == 201),
        "{created:?}"
    );

    let replaces = runs
        .iter()
        .map(|id| (*id, minimal_run(at(0)), None))
        .collect();
    let replaced = put_concurrently(&server, &agent, replaces).await;
    for (run_id, (status, etag)) in runs.iter().zip(&replaced) {
        assert_eq!(*status, 200, "{run_id}");
        assert_eq!(&stored(&server, &agent, *run_id).await.1, etag);
    }
}

async fn concurrent_conditional_puts_of_one_run_let_exactly_one_win(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let created = put_with(&server.client, &agent, run_id, &running(0), None)
        .await
        .unwrap();
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();

    let puts = (1..=16)
        .map(|tokens| (run_id, running(tokens), Some(etag.clone())))
        .collect();
    let answers = put_concurrently(&server, &agent, puts).await;
    let winners: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| [200, 412].contains(status)),
        "{answers:?}"
    );
    assert_eq!(stored(&server, &agent, run_id).await.1, winners[0].1);
}

/// Creates of one new run, conditional creates and changes of a finished
/// run, all at once: each is answered as if the writes ran one after
/// another, in some order.
async fn concurrent_mixed_writes_are_answered_as_one_after_another(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let (contested, conditional, finished) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let done = minimal_run(at(0));
    server.put_run(&agent, finished, &done).await;
    let done_etag = stored(&server, &agent, finished).await.1;

    let mut puts = Vec::new();
    for tokens in 1..=8 {
        puts.push((contested, running(tokens), None));
        puts.push((conditional, running(tokens), Some("*".to_owned())));
        puts.push((finished, running(tokens), None));
        puts.push((finished, done.clone(), None));
    }
    let answers = put_concurrently(&server, &agent, puts).await;
    let of = |kind: usize| answers.iter().skip(kind).step_by(4);

    let mut contested_statuses: Vec<u16> = of(0).map(|(status, _)| *status).collect();
    contested_statuses.sort_unstable();
    assert_eq!(contested_statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    let contested_etag = stored(&server, &agent, contested).await.1;
    assert!(
        of(0).any(|(_, etag)| *etag == contested_etag),
        "the stored version is one written"
    );

    assert!(of(1).all(|(status, _)| *status == 412), "{answers:?}");
    assert_eq!(
        get_status(&server, &agent, conditional).await,
        404,
        "no conditional write created the run"
    );

    assert!(of(2).all(|(status, _)| *status == 409), "{answers:?}");
    assert!(
        of(3).all(|(status, etag)| *status == 200 && *etag == done_etag),
        "{answers:?}"
    );
    assert_eq!(stored(&server, &agent, finished).await.1, done_etag);
}

crate::backend_tests!(
    creating_is_201_and_replacing_is_200,
    a_full_run_round_trips_losslessly,
    omitted_fields_come_back_as_their_defaults,
    a_terminal_run_accepts_its_own_version_and_refuses_changes,
    if_match_guards_replacement,
    a_malformed_if_match_is_400,
    a_body_of_the_wrong_shape_is_400_and_changes_nothing,
    a_body_that_breaks_a_rule_is_422_naming_the_field_and_changes_nothing,
    a_write_whose_client_goes_away_is_whole_or_absent,
    concurrent_puts_of_distinct_runs_are_each_created_then_replaced,
    concurrent_conditional_puts_of_one_run_let_exactly_one_win,
    concurrent_mixed_writes_are_answered_as_one_after_another,
);

/// The status of a plain `GET` of the run `run_id` of `agent`.
async fn get_status(server: &TestServer, agent: &Agent, run_id: Uuid) -> u16 {
    server
        .http
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
