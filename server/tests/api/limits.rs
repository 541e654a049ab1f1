//! Limits that protect the server from heavy or hostile clients; while one
//! is hit, everyone else is still answered.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};
use task_agent_server::api::error_codes;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use task_agent_server::auth::WRITE_SCOPE;

use crate::support::{
    AuthOptions, BINARY, Backend, READER, ServerProcess, TestDatabase, TestIdp, TestServer, WRITER,
    at, http_client, minimal_run,
};

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

/// Once, on SQLite: the header and silence timeouts are the HTTP server's,
/// whatever the storage, and the test waits for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_stall_in_their_headers_or_say_nothing_are_disconnected() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (agent, run_id) = server.agent_with_run().await;
    let mut stalled = TcpStream::connect(server.server_address()).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(server.server_address()).await.unwrap();
    let started = Instant::now();
    others_are_answered(&server, &agent.run_path(run_id)).await;
    for (what, connection) in [("stalled", &mut stalled), ("silent", &mut silent)] {
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(45), connection.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "the {what} connection was not closed within 45 s"
        );
        assert!(
            started.elapsed() >= Duration::from_secs(20),
            "the {what} connection was closed after the timeout, not at once"
        );
    }
}

/// A server that holds at most `max_connections` connections.
async fn server_with_at_most(max_connections: usize) -> TestServer {
    let options = AuthOptions {
        max_connections: NonZeroUsize::new(max_connections).unwrap(),
        ..Default::default()
    };
    TestServer::start_with(Backend::Sqlite, TestIdp::start().await, options).await
}

/// A GET of `path` straight to the server (not through the test proxy,
/// whose connections are its own), on a new connection, as a reader.
async fn direct_get(server: &TestServer, path: &str) -> reqwest::Result<reqwest::Response> {
    let token = server.idp.token(READER, &["openid"]);
    http_client(Some(&token))
        .get(format!("http://{}{path}", server.server_address()))
        .send()
        .await
}

/// Whether the server closed `connection` (it reads end of file).
async fn closed_by_the_server(connection: &mut TcpStream) -> bool {
    let mut byte = [0; 1];
    matches!(
        tokio::time::timeout(Duration::from_millis(100), connection.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// A connection that has not sent a byte when the server is told to stop
/// has no request to finish: the server closes it and stops at once,
/// instead of holding the shutdown until the connection's 30 s for a first
/// byte run out (or the grace period, here a minute), for a client that may
/// never speak, as a load balancer's pre-opened connections never do.
#[tokio::test]
async fn a_silent_connection_does_not_hold_the_shutdown() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let idp = TestIdp::start().await;
    let mut server = ServerProcess::start_with_flags(
        BINARY,
        &storage.url_string(),
        &idp,
        &["--shutdown-grace-secs", "60"],
    )
    .await;
    let mut silent = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    // Accepted and waiting for its first byte before the signal.
    let ready = http_client(None)
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let signalled = Instant::now();
    let stopped = server.terminate().await;
    // Not a measure of speed: with the connection waited for, this is 30 s.
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "stopped {:?} after the signal",
        signalled.elapsed()
    );
    assert!(
        stopped.as_ref().is_ok_and(|status| status.success()),
        "{stopped:?}: {}",
        server.log()
    );
    let mut byte = [0; 1];
    assert!(
        matches!(silent.read(&mut byte).await, Ok(0) | Err(_)),
        "closed by the server"
    );
}

/// Once, on SQLite: connections are the HTTP server's, whatever the storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_silent_connections_gives_way_to_a_client() {
    let server = server_with_at_most(16).await;
    let (agent, run_id) = server.agent_with_run().await;
    let mut flood = Vec::new();
    for _ in 0..200 {
        flood.push(TcpStream::connect(server.server_address()).await.unwrap());
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        direct_get(&server, &agent.run_path(run_id)),
    )
    .await
    .expect("answered well before the 30 s a silent connection may last")
    .unwrap();
    assert_eq!(answer.status(), 200);
    let mut closed = 0;
    for connection in &mut flood {
        closed += usize::from(closed_by_the_server(connection).await);
    }
    assert!(
        closed >= 200 - 16,
        "only {closed} of 200 silent connections were closed to stay within 16"
    );
}

/// Once, on SQLite: connections are the HTTP server's, whatever the storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_in_use_are_bounded() {
    let server = server_with_at_most(4).await;
    // Four connections inside a request (its headers not finished) hold
    // every place: they have spoken, so none gives way.
    let mut talking = Vec::new();
    for _ in 0..4 {
        let mut connection = TcpStream::connect(server.server_address()).await.unwrap();
        connection
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
            .await
            .unwrap();
        talking.push(connection);
    }
    let waiting = tokio::spawn({
        let address = server.server_address();
        async move { reqwest::get(format!("http://{address}/healthz")).await }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !waiting.is_finished(),
        "a fifth connection waits while four are open"
    );
    talking.pop();
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("answered once a place is free")
        .unwrap()
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// Once, on SQLite: the body deadline is the HTTP server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_arrives_too_slowly_is_408_and_nothing_is_written() {
    let options = AuthOptions {
        request_body_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, TestIdp::start().await, options).await;
    let (agent, run_id) = server.agent_with_run().await;
    let target = agent.run_path(Uuid::new_v4());
    let body = minimal_run(at(1)).to_string();
    let token = server.idp.token(WRITER, &["openid", WRITE_SCOPE]);
    let mut slow = TcpStream::connect(server.server_address()).await.unwrap();
    slow.write_all(
        format!(
            "PUT {target} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // A byte every 200 ms: never silent for long, never done in time.
    let started = Instant::now();
    let mut answer = Vec::new();
    for byte in body.as_bytes() {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        let mut chunk = [0; 1024];
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => answer.extend_from_slice(&chunk[..read]),
            Err(_) => others_are_answered(&server, &agent.run_path(run_id)).await,
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no answer after 20 s"
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(error_codes::REQUEST_TIMEOUT), "{answer}");
    assert!(
        closed_by_the_server(&mut slow).await,
        "the connection is closed"
    );
    let stored = server.http.get(server.url(&target)).send().await.unwrap();
    assert_eq!(stored.status(), 404, "nothing was written");
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
    assert_eq!(error["error_code"], error_codes::OVERLOADED);
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
