//! The real server, in process, on a SQLite file in a temporary directory,
//! with the demo's sample runs and memberships, and the development token
//! issuer.

use std::time::Duration;

use task_agent_server::api::RunPath;
use task_agent_server::auth::{DevIssuer, TokenRequest};
use task_agent_server::database_url::DatabaseUrl;
use task_agent_server::logging;
use task_agent_server::metrics::Metrics;
use task_agent_server::routes::Routes;
use task_agent_server::server::{self, ServerConfig};
use task_agent_server::{demo, storage::Database};

pub use task_agent_server::auth::WRITE_SCOPE;
pub use task_agent_server::demo::{DEMO_READER, DEMO_WRITER};

pub struct ApiServer {
    pub url: String,
    server: Option<dropshot::HttpServer<task_agent_server::context::ServerContext>>,
    /// The development issuer whose tokens the server accepts, to mint
    /// them (the server created its key in `data`).
    issuer: DevIssuer,
    data: tempfile::TempDir,
}

impl ApiServer {
    pub async fn start() -> ApiServer {
        let data = tempfile::tempdir().unwrap();
        let database = DatabaseUrl::Sqlite(data.path().join("runs.db"))
            .open()
            .await
            .unwrap();
        demo::seed(database.as_ref() as &dyn Database)
            .await
            .unwrap();
        let metrics = std::sync::Arc::new(Metrics::new());
        let log = logging::logger(
            &dropshot::ConfigLoggingLevel::Warn,
            metrics.clone(),
            Routes::of_api(),
        );
        let config = ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            demo::auth_config(data.path()),
        );
        let server = server::start(&config, database, log, metrics).unwrap();
        ApiServer {
            url: format!("http://{}", server.local_addr()),
            server: Some(server),
            issuer: DevIssuer::load_or_create(data.path()).unwrap(),
            data,
        }
    }

    /// The development issuer whose tokens the server accepts, as a value
    /// of its own (for a token endpoint to own).
    pub fn issuer(&self) -> DevIssuer {
        DevIssuer::load_or_create(self.data.path()).unwrap()
    }

    /// A token of the development issuer for `subject`.
    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.issuer
            .mint(&TokenRequest {
                subject: subject.to_owned(),
                scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
                audience: Vec::new(),
                ttl: Duration::from_secs(3600),
            })
            .unwrap()
    }

    /// A reader's token.
    pub fn reader_token(&self) -> String {
        self.token(DEMO_READER, &["task_agent_runs:read"])
    }

    /// The newest of the demo's sample runs.
    pub fn sample(&self) -> RunPath {
        demo::newest_sample()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            drop(tokio::spawn(server.close()));
        }
    }
}
