//! Configuration of `serve`: command-line flags, `TASK_AGENT_*` environment
//! variables and a TOML file with the same keys, in that order of precedence.

use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use dropshot::ConfigLoggingLevel;
use serde::Deserialize;

use crate::auth::JwksSource;
use std::sync::Arc;

use crate::database_url::{
    DEFAULT_DATABASE, DEFAULT_POOL_SIZE, DEFAULT_SQLITE_MMAP_SIZE, DEFAULT_STATEMENT_TIMEOUT,
    DatabaseOptions, DatabaseUrl,
};
use crate::server::{
    AuthConfig, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MEMBERSHIP_TTL,
    DEFAULT_REQUEST_BODY_TIMEOUT, ServerConfig, TokenIssuer,
};
use crate::storage::Database;

/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The default data directory (the development issuer's key lives there).
pub const DEFAULT_DATA_DIR: &str = "data";
/// The default leeway on `exp` and `nbf`, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// The default least interval between JWKS refetches, in seconds.
pub const DEFAULT_JWKS_REFETCH_SECS: u64 = 10;
const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;

/// Flags of `serve` (each also a `TASK_AGENT_<KEY>` variable).
#[derive(Args, Clone, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "TASK_AGENT_BIND")]
    pub bind: Option<SocketAddr>,
    /// Where runs are stored: sqlite://PATH or postgres://... [default: sqlite://data/task-agent-runs.db]
    #[arg(long, env = "TASK_AGENT_DATABASE")]
    pub database: Option<DatabaseUrl>,
    /// PostgreSQL connections this process keeps open at most (see docs/OPERATIONS.md for sizing) [default: 16]
    #[arg(long, env = "TASK_AGENT_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<NonZeroUsize>,
    /// How long one PostgreSQL statement may run before it is cancelled and the request gets 503 with Retry-After, in milliseconds (0: no limit) [default: 5000]
    #[arg(long, env = "TASK_AGENT_STATEMENT_TIMEOUT_MS")]
    pub statement_timeout_ms: Option<u64>,
    /// How much of a SQLite database each connection reads through a memory map, in MiB (0: none; see docs/OPERATIONS.md) [default: 1024]
    #[arg(long, env = "TASK_AGENT_SQLITE_MMAP_MIB")]
    pub sqlite_mmap_mib: Option<u64>,
    /// The exact `iss` of accepted tokens (for example Hydra's public URL)
    #[arg(long, env = "TASK_AGENT_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Where the issuer publishes its keys [usually: {issuer}/.well-known/jwks.json]
    #[arg(long, env = "TASK_AGENT_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// A JWKS file to read the issuer's keys from instead of a URL
    #[arg(long, env = "TASK_AGENT_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// Require this value in the tokens' `aud` [default: `aud` is not checked]
    #[arg(long, env = "TASK_AGENT_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds [default: 30]
    #[arg(long, env = "TASK_AGENT_JWT_LEEWAY_SECS")]
    pub jwt_leeway_secs: Option<u64>,
    /// Least time between two fetches of the JWKS for an unknown key id, in seconds [default: 10]
    #[arg(long, env = "TASK_AGENT_JWKS_REFETCH_SECS")]
    pub jwks_refetch_secs: Option<u64>,
    /// How long a looked-up membership is remembered: a change of membership takes effect within it, in seconds (0: looked up on every request) [default: 5]
    #[arg(long, env = "TASK_AGENT_MEMBERSHIP_CACHE_SECS")]
    pub membership_cache_secs: Option<u64>,
    /// Sign and accept development tokens with a key kept in the data directory (not for production)
    #[arg(long, env = "TASK_AGENT_DEV_ISSUER")]
    pub dev_issuer: bool,
    /// Directory for the development issuer's key [default: data]
    #[arg(long, env = "TASK_AGENT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// API requests handled at once; more get 503 with Retry-After [default: 256]
    #[arg(long, env = "TASK_AGENT_MAX_CONCURRENT_REQUESTS")]
    pub max_concurrent_requests: Option<usize>,
    /// Connections open at once; at the bound a new one takes the place of the oldest that has not sent a byte, or waits [default: 512]
    #[arg(long, env = "TASK_AGENT_MAX_CONNECTIONS")]
    pub max_connections: Option<NonZeroUsize>,
    /// How long a client may take to send a request body, in seconds; then 408 and the connection is closed [default: 30]
    #[arg(long, env = "TASK_AGENT_REQUEST_BODY_TIMEOUT_SECS")]
    pub request_body_timeout_secs: Option<NonZeroU64>,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish, in seconds [default: 30]
    #[arg(long, env = "TASK_AGENT_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Log level: trace, debug, info, warn, error or critical [default: info]
    #[arg(long, env = "TASK_AGENT_LOG_LEVEL", value_parser = parse_level)]
    pub log_level: Option<ConfigLoggingLevel>,
    /// TOML file with any of the keys above, in snake_case (bind, database, jwt_issuer, ...)
    #[arg(long, env = "TASK_AGENT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The keys of the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    database: Option<String>,
    database_pool_size: Option<NonZeroUsize>,
    statement_timeout_ms: Option<u64>,
    sqlite_mmap_mib: Option<u64>,
    jwt_issuer: Option<String>,
    jwks_url: Option<String>,
    jwks_file: Option<PathBuf>,
    jwt_audience: Option<String>,
    jwt_leeway_secs: Option<u64>,
    jwks_refetch_secs: Option<u64>,
    membership_cache_secs: Option<u64>,
    dev_issuer: Option<bool>,
    data_dir: Option<PathBuf>,
    max_concurrent_requests: Option<usize>,
    max_connections: Option<NonZeroUsize>,
    request_body_timeout_secs: Option<NonZeroU64>,
    shutdown_grace_secs: Option<u64>,
    log_level: Option<ConfigLoggingLevel>,
}

/// The configuration `serve` runs with.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub server: ServerConfig,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_grace: Duration,
    pub database: ServeDatabase,
    pub log_level: ConfigLoggingLevel,
}

/// The database `serve` uses, and how.
#[derive(Clone, Debug)]
pub struct ServeDatabase {
    /// Where the runs are stored.
    pub url: DatabaseUrl,
    /// How the database is used.
    pub options: DatabaseOptions,
}

impl ServeDatabase {
    /// Opens (creating and migrating if needed) the storage.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        self.url.open_with(&self.options).await
    }
}

// Shown in logs as the URL is: without its password.
impl std::fmt::Display for ServeDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.url.fmt(f)
    }
}

fn parse_level(text: &str) -> Result<ConfigLoggingLevel, String> {
    ConfigLoggingLevel::deserialize(
        serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text),
    )
    .map_err(|_| format!("unknown log level {text:?}"))
}

impl ServeArgs {
    /// The flags, completed by the configuration file and the defaults.
    pub fn resolve(self) -> anyhow::Result<ServeConfig> {
        let file = match &self.config {
            Some(path) => read_file_config(path)?,
            None => FileConfig::default(),
        };
        let url = match (self.database, file.database) {
            (Some(url), _) => url,
            (None, Some(text)) => text
                .parse()
                .map_err(|error: String| anyhow::anyhow!("database: {error}"))?,
            (None, None) => DEFAULT_DATABASE
                .parse()
                .expect("the default database URL parses"),
        };
        let database = ServeDatabase {
            url,
            options: DatabaseOptions {
                pool_size: self
                    .database_pool_size
                    .or(file.database_pool_size)
                    .unwrap_or(DEFAULT_POOL_SIZE),
                statement_timeout: match self.statement_timeout_ms.or(file.statement_timeout_ms) {
                    Some(0) => None,
                    Some(millis) => Some(Duration::from_millis(millis)),
                    None => Some(DEFAULT_STATEMENT_TIMEOUT),
                },
                sqlite_mmap_size: match self.sqlite_mmap_mib.or(file.sqlite_mmap_mib) {
                    Some(mib) => mib
                        .checked_mul(1 << 20)
                        .context("sqlite_mmap_mib: too large")?,
                    None => DEFAULT_SQLITE_MMAP_SIZE,
                },
            },
        };
        let issuer = resolve_issuer(
            self.dev_issuer || file.dev_issuer.unwrap_or(false),
            self.data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            self.jwt_issuer.or(file.jwt_issuer),
            self.jwks_url.or(file.jwks_url),
            self.jwks_file.or(file.jwks_file),
        )?;
        let auth = AuthConfig {
            issuer,
            audience: self.jwt_audience.or(file.jwt_audience),
            leeway: Duration::from_secs(
                self.jwt_leeway_secs
                    .or(file.jwt_leeway_secs)
                    .unwrap_or(DEFAULT_LEEWAY_SECS),
            ),
            jwks_refetch_interval: Duration::from_secs(
                self.jwks_refetch_secs
                    .or(file.jwks_refetch_secs)
                    .unwrap_or(DEFAULT_JWKS_REFETCH_SECS),
            ),
            membership_ttl: self
                .membership_cache_secs
                .or(file.membership_cache_secs)
                .map_or(DEFAULT_MEMBERSHIP_TTL, Duration::from_secs),
        };
        Ok(ServeConfig {
            server: ServerConfig {
                bind: self
                    .bind
                    .or(file.bind)
                    .unwrap_or_else(|| DEFAULT_BIND.parse().expect("the default address parses")),
                auth,
                max_concurrent_requests: self
                    .max_concurrent_requests
                    .or(file.max_concurrent_requests)
                    .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS)
                    .max(1),
                max_connections: self
                    .max_connections
                    .or(file.max_connections)
                    .unwrap_or(DEFAULT_MAX_CONNECTIONS),
                request_body_timeout: self
                    .request_body_timeout_secs
                    .or(file.request_body_timeout_secs)
                    .map_or(DEFAULT_REQUEST_BODY_TIMEOUT, |secs| {
                        Duration::from_secs(secs.get())
                    }),
            },
            shutdown_grace: Duration::from_secs(
                self.shutdown_grace_secs
                    .or(file.shutdown_grace_secs)
                    .unwrap_or(DEFAULT_SHUTDOWN_GRACE_SECS),
            ),
            database,
            log_level: self
                .log_level
                .or(file.log_level)
                .unwrap_or(ConfigLoggingLevel::Info),
        })
    }
}

fn resolve_issuer(
    dev_issuer: bool,
    data_dir: PathBuf,
    jwt_issuer: Option<String>,
    jwks_url: Option<String>,
    jwks_file: Option<PathBuf>,
) -> anyhow::Result<TokenIssuer> {
    match (dev_issuer, jwt_issuer, jwks_url, jwks_file) {
        (true, None, None, None) => Ok(TokenIssuer::Dev { data_dir }),
        (true, ..) => bail!(
            "--dev-issuer replaces --jwt-issuer, --jwks-url and --jwks-file: pass one or the other"
        ),
        (false, Some(issuer), Some(url), None) => Ok(TokenIssuer::External {
            issuer,
            jwks: JwksSource::Url(url),
        }),
        (false, Some(issuer), None, Some(path)) => Ok(TokenIssuer::External {
            issuer,
            jwks: JwksSource::File(path),
        }),
        (false, Some(_), Some(_), Some(_)) => bail!("pass --jwks-url or --jwks-file, not both"),
        (false, Some(_), None, None) => bail!("--jwt-issuer needs --jwks-url or --jwks-file"),
        (false, None, ..) => bail!(
            "no token issuer configured: pass --jwt-issuer with --jwks-url or --jwks-file \
             (TASK_AGENT_JWT_ISSUER, ...), or --dev-issuer to try the server without an identity provider"
        ),
    }
}

fn read_file_config(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_limits_come_from_flags_the_file_or_the_defaults() {
        let (_directory, path) =
            config_file("max_connections = 64\nrequest_body_timeout_secs = 5\n");
        let from_file = ServeArgs {
            config: Some(path.clone()),
            ..issuer_args()
        }
        .resolve()
        .unwrap();
        assert_eq!(from_file.server.max_connections.get(), 64);
        assert_eq!(
            from_file.server.request_body_timeout,
            Duration::from_secs(5)
        );
        let flags = ServeArgs {
            config: Some(path.clone()),
            max_connections: NonZeroUsize::new(8),
            ..issuer_args()
        }
        .resolve()
        .unwrap();
        assert_eq!(flags.server.max_connections.get(), 8);
        let defaults = issuer_args().resolve().unwrap();
        assert_eq!(defaults.server.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            defaults.server.request_body_timeout,
            DEFAULT_REQUEST_BODY_TIMEOUT
        );
        std::fs::write(&path, "max_connections = 0\n").unwrap();
        let zero = ServeArgs {
            config: Some(path),
            ..issuer_args()
        }
        .resolve();
        assert!(zero.is_err(), "no connections at all is refused");
    }

    /// A configuration file holding `contents`, in a directory that lives
    /// as long as the returned handle.
    fn config_file(contents: &str) -> (tempfile::TempDir, PathBuf) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("server.toml");
        std::fs::write(&path, contents).unwrap();
        (directory, path)
    }

    fn issuer_args() -> ServeArgs {
        ServeArgs {
            jwt_issuer: Some("https://auth.example".into()),
            jwks_url: Some("https://auth.example/.well-known/jwks.json".into()),
            ..Default::default()
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let (_directory, path) = config_file(
            "bind = \"127.0.0.1:9000\"\ndatabase = \"sqlite:///tmp/file.db\"\nlog_level = \"debug\"\n\
             jwt_issuer = \"https://file.example\"\njwks_file = \"/etc/jwks.json\"\njwt_audience = \"runs\"\n",
        );
        let from_file = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(from_file.server.bind.to_string(), "127.0.0.1:9000");
        assert_eq!(
            from_file.database.url,
            DatabaseUrl::Sqlite("/tmp/file.db".into())
        );
        assert_eq!(from_file.server.auth.audience.as_deref(), Some("runs"));
        assert!(matches!(
            from_file.server.auth.issuer,
            TokenIssuer::External { ref issuer, jwks: JwksSource::File(_) } if issuer == "https://file.example"
        ));
        let flags = ServeArgs {
            bind: Some("127.0.0.1:9001".parse().unwrap()),
            jwt_issuer: Some("https://flag.example".into()),
            config: Some(path),
            ..Default::default()
        };
        let resolved = flags.resolve().unwrap();
        assert_eq!(resolved.server.bind.to_string(), "127.0.0.1:9001");
        assert!(
            matches!(resolved.server.auth.issuer, TokenIssuer::External { ref issuer, .. } if issuer == "https://flag.example")
        );
        let defaults = issuer_args().resolve().unwrap();
        assert_eq!(defaults.server.bind.to_string(), DEFAULT_BIND);
        assert_eq!(defaults.database.to_string(), DEFAULT_DATABASE);
        assert_eq!(
            defaults.server.auth.leeway,
            Duration::from_secs(DEFAULT_LEEWAY_SECS)
        );
        assert_eq!(defaults.server.auth.audience, None);
    }

    #[test]
    fn database_options_come_from_flags_the_file_or_the_defaults() {
        let (_directory, path) = config_file(
            "database_pool_size = 8\nstatement_timeout_ms = 250\nsqlite_mmap_mib = 64\n",
        );
        let from_file = ServeArgs {
            config: Some(path.clone()),
            ..issuer_args()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            from_file.database.options,
            DatabaseOptions {
                pool_size: NonZeroUsize::new(8).unwrap(),
                statement_timeout: Some(Duration::from_millis(250)),
                sqlite_mmap_size: 64 << 20,
            }
        );
        let flags = ServeArgs {
            config: Some(path),
            database_pool_size: NonZeroUsize::new(2),
            statement_timeout_ms: Some(0),
            sqlite_mmap_mib: Some(0),
            ..issuer_args()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            flags.database.options,
            DatabaseOptions {
                pool_size: NonZeroUsize::new(2).unwrap(),
                statement_timeout: None,
                sqlite_mmap_size: 0,
            },
            "0 is no limit, and no map"
        );
        let defaults = issuer_args().resolve().unwrap();
        assert_eq!(defaults.database.options.pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(
            defaults.database.options.statement_timeout,
            Some(DEFAULT_STATEMENT_TIMEOUT),
            "serve has a deadline the tools do not"
        );
        assert_eq!(
            defaults.database.options.sqlite_mmap_size,
            DEFAULT_SQLITE_MMAP_SIZE
        );
        let overflowing = ServeArgs {
            sqlite_mmap_mib: Some(u64::MAX),
            ..issuer_args()
        }
        .resolve()
        .unwrap_err();
        assert!(
            overflowing.to_string().contains("sqlite_mmap_mib"),
            "{overflowing:#}"
        );
    }

    #[test]
    fn an_issuer_must_be_configured_one_way() {
        assert!(
            ServeArgs::default()
                .resolve()
                .unwrap_err()
                .to_string()
                .contains("no token issuer")
        );
        let dev = ServeArgs {
            dev_issuer: true,
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(matches!(dev.server.auth.issuer, TokenIssuer::Dev { .. }));
        assert!(
            ServeArgs {
                dev_issuer: true,
                ..issuer_args()
            }
            .resolve()
            .is_err()
        );
        assert!(
            ServeArgs {
                jwks_url: None,
                ..issuer_args()
            }
            .resolve()
            .is_err()
        );
        assert!(
            ServeArgs {
                jwks_file: Some("/x".into()),
                ..issuer_args()
            }
            .resolve()
            .is_err()
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let (_directory, path) = config_file("bnd = \"127.0.0.1:9000\"\n");
        let error = ServeArgs {
            config: Some(path),
            ..issuer_args()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{error:#}").contains("bnd"), "{error:#}");
    }
}
