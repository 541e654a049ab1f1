//! What an operator sees of a running server process: one structured log
//! line per request (without secrets), Prometheus metrics, a generic 500
//! with its cause in the log, and a clean stop on SIGTERM.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use task_agent_server::auth::WRITE_SCOPE;
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, TestDatabase, TestIdp, WRITER, at, http_client,
    minimal_run,
};

/// The log's complete JSON lines (the last one may be half written).
fn log_lines(server: &ServerProcess) -> Vec<Value> {
    let log = server.log();
    let complete = &log[..log.rfind('\n').map_or(0, |end| end + 1)];
    complete
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect()
}

/// Waits until the log has the request line of `request_id` (the log is
/// written off the request path, a moment after the response).
async fn request_line(server: &ServerProcess, request_id: &str) -> Value {
    for _ in 0..100 {
        let mut lines: Vec<Value> = log_lines(server)
            .into_iter()
            .filter(|line| line["req_id"] == request_id)
            .collect();
        if !lines.is_empty() {
            assert_eq!(lines.len(), 1, "one line per request: {lines:?}");
            return lines.remove(0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no log line for request {request_id}:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_logged_once_each_without_secrets_and_counted() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let idp = TestIdp::start().await;
    let agent = Agent::with_members(storage.url.open().await.unwrap().as_ref()).await;
    let server = ServerProcess::start(BINARY, &storage.url_string(), &idp).await;
    let token = idp.token(WRITER, &[WRITE_SCOPE]);
    let forged = format!("{}x", token);
    let writer = http_client(Some(&token));
    let run_id = Uuid::new_v4();

    let mut requests = Vec::new();
    let put = writer
        .put(server.url(&agent.run_path(run_id)))
        .json(&minimal_run(at(0)))
        .send()
        .await
        .unwrap();
    requests.push((put, "put_task_agent_run", "PUT", 201));
    let get = writer
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    requests.push((get, "get_task_agent_run", "GET", 200));
    let list = writer
        .get(server.url(&format!("{}?page_limit=2", agent.runs_path())))
        .send()
        .await
        .unwrap();
    requests.push((list, "list_task_agent_runs", "GET", 200));
    let forged_get = http_client(Some(&forged))
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    requests.push((forged_get, "get_task_agent_run", "GET", 401));
    let not_a_uuid = agent
        .run_path(run_id)
        .replace(&agent.org.to_string(), "nope");
    let bad_path = writer.get(server.url(&not_a_uuid)).send().await.unwrap();
    requests.push((bad_path, "get_task_agent_run", "GET", 400));

    for (response, operation, method, status) in requests {
        assert_eq!(response.status().as_u16(), status, "{operation}");
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let line = request_line(&server, &request_id).await;
        assert_eq!(line["msg"], "request completed");
        assert_eq!(line["operation"], operation, "{line}");
        assert_eq!(line["method"], method);
        assert_eq!(line["response_code"], status);
        assert!(
            line["route"].as_str().unwrap().contains("{org_id}"),
            "the path template: {line}"
        );
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
        assert!(line["ts"].is_string() && line["level"] == "INFO");
    }
    let log = server.log();
    for secret in [
        token.as_str(),
        forged.as_str(),
        token.split('.').nth(2).unwrap(),
        "Bearer",
    ] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }

    let metrics = reqwest::get(server.url("/metrics")).await.unwrap();
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let metrics = metrics.text().await.unwrap();
    for expected in [
        "task_agent_http_requests_total{operation=\"put_task_agent_run\",status=\"201\"} 1",
        "task_agent_http_requests_total{operation=\"get_task_agent_run\",status=\"200\"} 1",
        "task_agent_http_requests_total{operation=\"get_task_agent_run\",status=\"401\"} 1",
        "task_agent_http_requests_total{operation=\"list_task_agent_runs\",status=\"200\"} 1",
        "task_agent_http_request_duration_seconds_count{operation=\"get_task_agent_run\"} 3",
        "task_agent_token_cache_entries 1",
    ] {
        assert!(metrics.contains(expected), "{expected:?} in\n{metrics}");
    }
    // The pool's size follows the machine's cores.
    let pool_max: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("task_agent_db_pool_connections{state=\"max\"} "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no pool size in\n{metrics}"));
    assert!(pool_max >= 2, "{pool_max}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_error_is_a_generic_500_with_its_cause_in_the_log() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let idp = TestIdp::start().await;
    let agent = Agent::with_members(storage.url.open().await.unwrap().as_ref()).await;
    let server = ServerProcess::start(BINARY, &storage.url_string(), &idp).await;
    let writer = http_client(Some(&idp.token(WRITER, &[WRITE_SCOPE])));
    let (broken, healthy) = (Uuid::new_v4(), Uuid::new_v4());
    for run_id in [broken, healthy] {
        let created = writer
            .put(server.url(&agent.run_path(run_id)))
            .json(&minimal_run(at(0)))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    // Damage one stored run behind the server's back: a line break in its
    // ETag, which no header can carry.
    let connection = storage.sqlite_connection();
    connection
        .execute(
            "UPDATE task_agent_runs SET etag = 'line' || char(10) || 'break' WHERE run_id = ?1",
            [broken],
        )
        .unwrap();

    let response = writer
        .get(server.url(&agent.run_path(broken)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Internal Server Error", "generic: {body}");
    assert_eq!(body["request_id"], request_id.as_str());
    let line = request_line(&server, &request_id).await;
    assert!(
        line["error_message_internal"]
            .as_str()
            .unwrap()
            .contains("ETag"),
        "the cause, in the log: {line}"
    );

    let still = writer
        .get(server.url(&agent.run_path(healthy)))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "the server keeps serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let idp = TestIdp::start().await;
    let agent = Agent::with_members(storage.url.open().await.unwrap().as_ref()).await;
    let mut server = ServerProcess::start(BINARY, &storage.url_string(), &idp).await;
    let writer = http_client(Some(&idp.token(WRITER, &[WRITE_SCOPE])));

    // A PUT whose body arrives in two parts, a second apart.
    let body = minimal_run(at(0)).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let (first, second) = (first.to_owned(), second.to_owned());
    let chunks =
        futures::stream::iter([(first, 0u64), (second, 1_000)]).then(|(chunk, delay)| async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            Ok::<_, std::io::Error>(chunk)
        });
    let run_id = Uuid::new_v4();
    let in_flight = tokio::spawn(
        writer
            .put(server.url(&agent.run_path(run_id)))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = server.terminate().await.unwrap();
    let response = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 201, "and it was carried out");
    assert!(status.success(), "exit status {status:?}");
    let log = server.log();
    assert!(
        log.contains("\"msg\":\"shutting down\"") && log.contains("\"msg\":\"stopped\""),
        "{log}"
    );
    assert!(
        reqwest::get(server.url("/healthz")).await.is_err(),
        "no longer accepting"
    );
}
