//! A real server for each test: SQLite in a fresh temp dir, HTTP on
//! `127.0.0.1:0`, and between it and the test a proxy that checks every
//! response against `openapi.yaml` (status documented, body valid).

mod proxy;
mod runs;
mod spec;

use std::sync::Arc;

use dropshot::HttpServer;
use task_agent_client::Client;
use task_agent_server::context::ServerContext;
use task_agent_server::server::{self, HttpConfig};
use task_agent_server::storage::{RunStore, SqliteStore};
use tempfile::TempDir;

pub use proxy::ConformanceProxy;
pub use runs::*;

/// A server under test, reached through the conformance proxy.
pub struct TestServer {
    /// The generated client, pointed at the proxy.
    pub client: Client,
    /// A plain HTTP client for requests the typed client cannot send.
    pub http: reqwest::Client,
    /// Base URL of the proxy (`http://127.0.0.1:PORT`).
    pub url: String,
    proxy: ConformanceProxy,
    server: Option<HttpServer<ServerContext>>,
    _data: TempDir,
}

impl TestServer {
    /// Starts a server on a new SQLite file.
    pub async fn start() -> TestServer {
        let data = tempfile::tempdir().expect("a temp dir");
        let path = data.path().join("runs.db");
        let store: Arc<dyn RunStore> = Arc::new(
            tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .unwrap()
                .unwrap(),
        );
        let log = slog::Logger::root(slog::Discard, slog::o!());
        let config = HttpConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
        };
        let server = server::start(&config, store, log).expect("the server starts");
        let proxy = ConformanceProxy::start(server.local_addr()).await;
        let url = format!("http://{}", proxy.address());
        TestServer {
            client: Client::new(&url),
            http: reqwest::Client::new(),
            url,
            proxy,
            server: Some(server),
            _data: data,
        }
    }

    /// The URL of `path` on the server (through the proxy).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// How many responses the proxy has checked against the spec.
    pub fn checked_responses(&self) -> usize {
        self.proxy.checked()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            tokio::spawn(async move { server.close().await });
        }
        let violations = self.proxy.violations();
        if !std::thread::panicking() {
            assert!(
                violations.is_empty(),
                "responses that do not conform to openapi.yaml:\n{}",
                violations.join("\n")
            );
        }
    }
}

/// The error body of a failed call, after checking its status.
pub fn expect_status<T: std::fmt::Debug>(
    result: Result<T, task_agent_client::Error<task_agent_client::types::Error>>,
    status: u16,
) -> task_agent_client::types::Error {
    match result {
        Err(task_agent_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), status, "{response:?}");
            response.into_inner()
        }
        other => panic!("expected an error response with status {status}, got {other:?}"),
    }
}
