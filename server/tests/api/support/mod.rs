//! A real server for each test: a fresh database (SQLite in a temp dir, or
//! a PostgreSQL schema of its own), HTTP on `127.0.0.1:0`, tokens from a
//! real identity provider on loopback (`task-agent-test-support`'s), and
//! between the server and the test a proxy that checks every response
//! against `openapi.yaml` (status documented, body valid).

mod backend;
mod cluster;
mod cursors;
mod proxy;
mod runs;
mod spec;

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use dropshot::HttpServer;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use task_agent_client::Client;
use task_agent_server::auth::{JwksSource, WRITE_SCOPE};
use task_agent_server::context::ServerContext;
use task_agent_server::metrics::Metrics;
use task_agent_server::server::{
    self, AuthConfig, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_BODY_TIMEOUT, ServerConfig, TokenIssuer,
};
use task_agent_server::storage::Database;
use uuid::Uuid;

pub use backend::{Backend, TestDatabase, WriteLock};
pub use cluster::{ServerTls, ThrowawayPostgres};
pub use cursors::unkeyed_cursor;
pub use proxy::ConformanceProxy;
pub use runs::put_with;
pub use task_agent_test_support::{
    Agent, READER, ServerProcess, SigningKey, TestIdp, WRITER, at, free_port, full_run,
    minimal_run, new_key, write_body,
};

/// The server binary under test (for [`ServerProcess::start`] and the
/// command-line tests).
pub const BINARY: &str = env!("CARGO_BIN_EXE_task-agent-server");

/// How a test server verifies tokens, and its limits.
pub struct AuthOptions {
    pub audience: Option<String>,
    pub leeway: Duration,
    pub max_concurrent_requests: usize,
    pub max_connections: NonZeroUsize,
    pub request_body_timeout: Duration,
}

impl Default for AuthOptions {
    fn default() -> AuthOptions {
        AuthOptions {
            audience: None,
            leeway: Duration::from_secs(5),
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_body_timeout: DEFAULT_REQUEST_BODY_TIMEOUT,
        }
    }
}

/// A server under test, reached through the conformance proxy.
pub struct TestServer {
    /// The generated client with a writer's token.
    pub client: Client,
    /// A plain HTTP client with the writer's token, for requests the typed
    /// client cannot send.
    pub http: reqwest::Client,
    /// Base URL of the proxy (`http://127.0.0.1:PORT`).
    pub url: String,
    pub idp: TestIdp,
    pub database: Arc<dyn Database>,
    proxy: ConformanceProxy,
    server: Option<HttpServer<ServerContext>>,
    storage: TestDatabase,
}

impl TestServer {
    /// Starts a server on a new database, trusting a new identity provider.
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, TestIdp::start().await, AuthOptions::default()).await
    }

    /// Starts a server on a new database, trusting `idp` as `options` say.
    pub async fn start_with(backend: Backend, idp: TestIdp, options: AuthOptions) -> TestServer {
        let storage = TestDatabase::create(backend).await;
        let database: Arc<dyn Database> =
            storage.url.open().await.expect("the test database opens");
        let log = slog::Logger::root(slog::Discard, slog::o!());
        let config = ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            auth: AuthConfig {
                issuer: TokenIssuer::External {
                    issuer: idp.issuer.clone(),
                    jwks: JwksSource::Url(idp.jwks_url()),
                },
                audience: options.audience,
                leeway: options.leeway,
                // Short, so that the key-rotation tests need not wait.
                jwks_refetch_interval: Duration::from_millis(100),
                membership_ttl: server::DEFAULT_MEMBERSHIP_TTL,
            },
            max_concurrent_requests: options.max_concurrent_requests,
            max_connections: options.max_connections,
            request_body_timeout: options.request_body_timeout,
        };
        let metrics = Arc::new(Metrics::new());
        let server =
            server::start(&config, database.clone(), log, metrics).expect("the server starts");
        let proxy = ConformanceProxy::start(server.local_addr()).await;
        let url = format!("http://{}", proxy.address());
        let mut writer_claims = idp.hydra_claims(WRITER, &["openid", WRITE_SCOPE]);
        if let Some(audience) = &config.auth.audience {
            writer_claims["aud"] = serde_json::json!([audience]);
        }
        let writer_token = idp.rsa.sign(&writer_claims).unwrap();
        TestServer {
            client: Client::with_bearer_token(&url, &writer_token).unwrap(),
            http: http_client(Some(&writer_token)),
            url,
            idp,
            database,
            proxy,
            server: Some(server),
            storage,
        }
    }

    /// A new organization, project and task agent, in which [`WRITER`] is a
    /// writer and [`READER`] a reader.
    pub async fn agent(&self) -> Agent {
        Agent::with_members(self.database.as_ref()).await
    }

    /// A new task agent as [`TestServer::agent`] makes it, with one stored
    /// run (a minimal one, created at [`at`]`(0)`), and that run's id.
    pub async fn agent_with_run(&self) -> (Agent, Uuid) {
        let agent = self.agent().await;
        let run_id = Uuid::new_v4();
        self.put_run(&agent, run_id, &minimal_run(at(0))).await;
        (agent, run_id)
    }

    /// The generated client, sending `token`.
    pub fn client_with_token(&self, token: &str) -> Client {
        Client::with_bearer_token(&self.url, token).unwrap()
    }

    /// The server's database, as the command line names it (to run
    /// commands such as `prune` beside the server).
    pub fn storage(&self) -> &TestDatabase {
        &self.storage
    }

    /// Holds the database's write lock until the guard is dropped.
    pub async fn block_writes(&self) -> WriteLock {
        self.storage.lock_writes().await
    }

    /// The server's own address, bypassing the proxy (for raw HTTP).
    pub fn server_address(&self) -> std::net::SocketAddr {
        self.server.as_ref().expect("running").local_addr()
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

/// A plain HTTP client, sending `token` when there is one.
pub fn http_client(token: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let (Some(server), Ok(runtime)) =
            (self.server.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(async move { server.close().await });
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

/// The variable that turns every skip into a failure (CI sets it, so that
/// a test whose prerequisites went missing cannot pass by doing nothing).
pub const REQUIRE_ALL_VARIABLE: &str = "TASK_AGENT_TEST_REQUIRE_ALL";

/// Says on the terminal (past the test harness's capture) that `test` was
/// skipped and why; fails instead when [`REQUIRE_ALL_VARIABLE`] is set.
pub fn skip(test: &str, why: &str) {
    assert!(
        std::env::var_os(REQUIRE_ALL_VARIABLE).is_none(),
        "{test} cannot run ({why}) and {REQUIRE_ALL_VARIABLE} is set"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
