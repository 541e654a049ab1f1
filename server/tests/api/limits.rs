//! Limits that protect the server from heavy or hostile clients; while one
//! is hit, everyone else is still answered.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::support::{AuthOptions, Backend, TestIdp, TestServer, at, minimal_run};

/// A GET of an existing run: 200, whatever else is going on.
async fn others_are_answered(server: &TestServer, path: &str) {
    let response = server.http.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "another client is still answered");
}

async fn a_body_over_1_mib_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let huge = format!("{{\"session_id\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let (target, existing) = (
        server.url(&agent.run_path(Uuid::new_v4())),
        agent.run_path(run_id),
    );
    let (refused, ()) = tokio::join!(
        server
            .http
            .put(target)
            .header("content-type", "application/json")
            .body(huge)
            .send(),
        others_are_answered(&server, &existing),
    );
    let refused = refused.unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("exceeded maximum size"),
        "{body}"
    );
}

/// Sends `request` as raw bytes to the server and reads what it answers
/// before closing the connection.
async fn raw(server: &TestServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.server_address()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn oversized_headers_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let many: String = (0..200)
        .map(|i| format!("X-Header-{i}: value\r\n"))
        .collect();
    let long = format!("X-Long: {}\r\n", "a".repeat(512 * 1024));
    for headers in [many, long] {
        let request = format!("GET /healthz HTTP/1.1\r\nHost: test\r\n{headers}\r\n");
        let existing = agent.run_path(run_id);
        let (answer, ()) = tokio::join!(
            raw(&server, request.as_bytes()),
            others_are_answered(&server, &existing)
        );
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{}",
            &answer[..answer.len().min(80)]
        );
    }
}

/// Once, on SQLite: the header timeout is the HTTP server's, whatever the
/// storage, and the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (agent, run_id) = server.agent_with_run().await;
    let mut stalled = TcpStream::connect(server.server_address()).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    others_are_answered(&server, &agent.run_path(run_id)).await;
    let mut rest = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(45), stalled.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the stalled connection was not closed within 45 s"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "closed after the header timeout, not at once"
    );
}

async fn beyond_the_limit_of_concurrent_requests_the_answer_is_503(backend: Backend) {
    let options = AuthOptions {
        max_concurrent_requests: 2,
        ..Default::default()
    };
    let server = TestServer::start_with(backend, TestIdp::start().await, options).await;
    let (agent, run_id) = server.agent_with_run().await;
    // Two writes held up by a lock on the database keep both permits.
    let blocker = server.block_writes().await;
    let held: Vec<_> = (0..2)
        .map(|i| {
            let (http, url) = (
                server.http.clone(),
                server.url(&agent.run_path(Uuid::new_v4())),
            );
            tokio::spawn(async move {
                http.put(url)
                    .json(&minimal_run(at(i + 1)))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = server
        .http
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["error_code"], "Overloaded");
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200,
        "probes are not limited"
    );
    drop(blocker);
    for write in held {
        assert_eq!(
            write.await.unwrap(),
            201,
            "the held writes finish once the lock is gone"
        );
    }
    others_are_answered(&server, &agent.run_path(run_id)).await;
}

crate::backend_tests!(
    a_body_over_1_mib_is_refused,
    oversized_headers_are_refused,
    beyond_the_limit_of_concurrent_requests_the_answer_is_503,
);
