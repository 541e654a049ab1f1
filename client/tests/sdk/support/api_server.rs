//! The real server, in process, on a SQLite file in a temporary directory,
//! with the demo's sample runs and memberships, trusting an identity
//! provider of its own (a Hydra stand-in that also issues tokens to OAuth
//! clients).

use std::time::Duration;

use task_agent_server::api::RunPath;
use task_agent_server::auth::JwksSource;
use task_agent_server::database_url::DatabaseUrl;
use task_agent_server::logging;
use task_agent_server::metrics::Metrics;
use task_agent_server::routes::Routes;
use task_agent_server::server::{self, AuthConfig, ServerConfig, TokenIssuer};
use task_agent_server::{demo, storage::Database};
use task_agent_test_support::{OAuthClient, TestIdp};

pub use task_agent_server::auth::WRITE_SCOPE;
pub use task_agent_server::demo::{DEMO_READER, DEMO_WRITER};

/// The secret of the OAuth clients the tests register (characters that
/// must be form-urlencoded before basic authentication).
pub const CLIENT_SECRET: &str = "s3cret: with/odd+chars";

pub struct ApiServer {
    pub url: String,
    /// The identity provider whose tokens the server accepts.
    pub idp: TestIdp,
    server: Option<dropshot::HttpServer<task_agent_server::context::ServerContext>>,
    _data: tempfile::TempDir,
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
        let idp = TestIdp::start().await;
        let metrics = std::sync::Arc::new(Metrics::new());
        let log = logging::logger(
            &dropshot::ConfigLoggingLevel::Warn,
            metrics.clone(),
            Routes::of_api(),
        );
        let auth = AuthConfig {
            issuer: TokenIssuer::External {
                issuer: idp.issuer.clone(),
                jwks: JwksSource::Url(idp.jwks_url()),
            },
            audience: None,
            leeway: Duration::from_secs(5),
            // Short, so that a refused token's unknown key costs no wait.
            jwks_refetch_interval: Duration::from_millis(100),
            membership_ttl: server::DEFAULT_MEMBERSHIP_TTL,
        };
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), auth);
        let server = server::start(&config, database, log, metrics).unwrap();
        ApiServer {
            url: format!("http://{}", server.local_addr()),
            idp,
            server: Some(server),
            _data: data,
        }
    }

    /// Registers an OAuth client `subject` (Hydra makes the client id the
    /// subject of its tokens) with [`CLIENT_SECRET`], whose tokens live
    /// `expires_in` seconds and the first `unpublished` of which are signed
    /// by a key the server does not trust.
    pub fn register_client(&self, subject: &str, expires_in: u64, unpublished: usize) {
        self.idp.register_client(OAuthClient {
            token_lifetime: Duration::from_secs(expires_in),
            unpublished_tokens: unpublished,
            ..OAuthClient::new(subject, CLIENT_SECRET)
        });
    }

    /// A token of the identity provider for `subject`.
    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.idp.token(subject, scopes)
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
