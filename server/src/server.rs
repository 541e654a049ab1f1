//! Starting the HTTP server.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dropshot::{
    ApiDescription, ApiEndpoint, ConfigDropshot, ConnectionLimits, HandlerTaskMode, HttpServer,
    ServerBuilder,
};

use crate::api::task_agent_runs_api_mod;
use crate::auth::{
    DEV_ISSUER, DevIssuer, JwksSource, JwtVerifier, KeySet, MembershipCache, VerifierConfig,
};
use crate::context::ServerContext;
use crate::cursor::{self, CursorKeyHolder};
use crate::docs;
use crate::handlers::TaskAgentRunsImpl;
use crate::metrics::Metrics;
use crate::probes;
use crate::storage::Database;
use tokio::sync::Semaphore;

/// Largest request body accepted: a run with long tool and file lists is a
/// few tens of kilobytes; anything near this limit is a mistake or an attack.
pub const REQUEST_BODY_MAX_BYTES: usize = 1024 * 1024;

/// How long a verified token is remembered at most (so a key removed from
/// the issuer's JWKS stops verifying tokens within this time after the key
/// set is next refreshed).
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);

/// How many verified tokens are remembered at most.
pub const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// How many memberships are remembered at most.
pub const MEMBERSHIP_CACHE_CAPACITY: usize = 10_000;

/// The default of [`AuthConfig::membership_ttl`]: a change of membership
/// takes effect within it.
pub const DEFAULT_MEMBERSHIP_TTL: Duration = Duration::from_secs(5);

/// What the HTTP server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port).
    pub bind: SocketAddr,
    pub auth: AuthConfig,
    /// API requests handled at once; more get 503 with `Retry-After`.
    pub max_concurrent_requests: usize,
    /// Connections open at once. At the bound a new connection takes the
    /// place of the oldest one that has not sent a byte yet, or waits in the
    /// listen backlog until one closes.
    pub max_connections: NonZeroUsize,
    /// How long a client may take to send a request body; then 408.
    pub request_body_timeout: Duration,
}

impl ServerConfig {
    /// Serving on `bind`, verifying tokens as `auth` says, with the default
    /// limits.
    pub fn new(bind: SocketAddr, auth: AuthConfig) -> ServerConfig {
        ServerConfig {
            bind,
            auth,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_body_timeout: DEFAULT_REQUEST_BODY_TIMEOUT,
        }
    }
}

/// The default of [`ServerConfig::max_concurrent_requests`]: enough to keep
/// every database connection busy with a queue behind it, few enough that an
/// overload is refused rather than left to time out.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 256;

/// The default of [`ServerConfig::max_connections`]: twice the requests in
/// progress, so keep-alive connections between requests have room, and with
/// the database's connections and files well within the usual limit of
/// 1,024 open files per process.
pub const DEFAULT_MAX_CONNECTIONS: NonZeroUsize = NonZeroUsize::new(512).expect("not zero");

/// The default of [`ServerConfig::request_body_timeout`]: a 1 MiB body (the
/// largest accepted) arrives in it at 35 KB/s; the same time hyper gives a
/// client to send its headers.
pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How tokens are verified.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub issuer: TokenIssuer,
    /// When set, tokens' `aud` must contain it.
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// Least time between two fetches of the JWKS for an unknown key id.
    pub jwks_refetch_interval: Duration,
    /// How long a looked-up membership is remembered (zero: not at all).
    pub membership_ttl: Duration,
}

/// Who issues the accepted tokens.
#[derive(Clone, Debug)]
pub enum TokenIssuer {
    /// An identity provider (Ory Hydra, Kratos, ...) with its JWKS.
    External { issuer: String, jwks: JwksSource },
    /// The server's own development issuer, keyed in `data_dir`.
    Dev { data_dir: PathBuf },
}

/// The routes outside the contract: probes, metrics, the development JWKS
/// and the docs.
pub fn unpublished_endpoints() -> Vec<ApiEndpoint<ServerContext>> {
    vec![
        probes::healthz.into(),
        probes::readyz.into(),
        probes::metrics.into(),
        probes::jwks.into(),
        docs::reference.into(),
        docs::reference_bundle.into(),
        docs::spec_yaml.into(),
        docs::spec_json_document.into(),
    ]
}

/// Every route: the API trait's operations and the unpublished ones.
pub fn api_description() -> anyhow::Result<ApiDescription<ServerContext>> {
    let mut api = task_agent_runs_api_mod::api_description::<TaskAgentRunsImpl>()
        .map_err(|error| anyhow::anyhow!("describing the API: {error}"))?;
    for endpoint in unpublished_endpoints() {
        api.register(endpoint)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
    }
    Ok(api)
}

/// The verifier `auth` describes, and the development JWKS to publish.
fn verifier(auth: &AuthConfig) -> anyhow::Result<(JwtVerifier, Option<jsonwebtoken::jwk::JwkSet>)> {
    let (issuer, source, published) = match &auth.issuer {
        TokenIssuer::External { issuer, jwks } => (issuer.clone(), jwks.clone(), None),
        TokenIssuer::Dev { data_dir } => {
            let dev = DevIssuer::load_or_create(data_dir)?;
            (
                DEV_ISSUER.to_owned(),
                JwksSource::Static(dev.jwks()),
                Some(dev.jwks()),
            )
        }
    };
    let keys = Arc::new(KeySet::new(source, auth.jwks_refetch_interval));
    keys.spawn_refresh();
    let config = VerifierConfig {
        issuer,
        audience: auth.audience.clone(),
        leeway: auth.leeway,
        cache_ttl: TOKEN_CACHE_TTL,
        cache_capacity: TOKEN_CACHE_CAPACITY,
    };
    Ok((JwtVerifier::new(config, keys), published))
}

/// Starts serving `database` on `config.bind`.
pub fn start(
    config: &ServerConfig,
    database: Arc<dyn Database>,
    log: slog::Logger,
    metrics: Arc<Metrics>,
) -> anyhow::Result<HttpServer<ServerContext>> {
    let (verifier, dev_jwks) = verifier(&config.auth)?;
    let cursor_keys = CursorKeyHolder::new(database.clone(), cursor::REFRESH_EVERY);
    let dropshot_config = ConfigDropshot {
        bind_address: config.bind,
        default_request_body_max_bytes: REQUEST_BODY_MAX_BYTES,
        // Handlers run in their connection's task (omicron chooses
        // `Detached`; we chose this deliberately): spawning a task per
        // request doubled a GET's CPU time (cross-thread wake-ups). A
        // handler whose client goes away is dropped at its next await, so
        // every handler must be cancel-safe, and is:
        // - GET and list only read; the caches they fill (tokens,
        //   memberships, the cursor key) are filled after a read completes,
        //   and a dropped wait for a cache fill only releases its lock;
        // - PUT is one transaction, committed or rolled back, never half
        //   done, and the client, which got no answer, can repeat it
        //   (tested: put_run.rs, a write whose client goes away is whole or
        //   absent, and its retry is applied).
        default_handler_task_mode: HandlerTaskMode::CancelOnDisconnect,
        ..Default::default()
    };
    ServerBuilder::new(
        api_description()?,
        ServerContext {
            database,
            verifier,
            memberships: MembershipCache::new(
                MEMBERSHIP_CACHE_CAPACITY,
                config.auth.membership_ttl,
            ),
            cursor_keys,
            dev_jwks,
            metrics,
            admission: Semaphore::new(config.max_concurrent_requests),
        },
        log,
    )
    .config(dropshot_config)
    .connection_limits(ConnectionLimits {
        max_connections: Some(config.max_connections),
        request_body_timeout: Some(config.request_body_timeout),
    })
    .start()
    .with_context(|| format!("listening on {}", config.bind))
}
