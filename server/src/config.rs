//! Configuration of `serve`: command-line flags, `TASK_AGENT_*` environment
//! variables and a TOML file with the same keys, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use dropshot::ConfigLoggingLevel;
use serde::Deserialize;

use crate::database_url::{DEFAULT_DATABASE, DatabaseUrl};

/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Flags of `serve` (each also a `TASK_AGENT_<KEY>` variable).
#[derive(Args, Clone, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "TASK_AGENT_BIND")]
    pub bind: Option<SocketAddr>,
    /// Where runs are stored: sqlite://PATH [default: sqlite://data/task-agent-runs.db]
    #[arg(long, env = "TASK_AGENT_DATABASE")]
    pub database: Option<DatabaseUrl>,
    /// Log level: trace, debug, info, warn, error or critical [default: info]
    #[arg(long, env = "TASK_AGENT_LOG_LEVEL", value_parser = parse_level)]
    pub log_level: Option<ConfigLoggingLevel>,
    /// TOML file with any of the keys above (bind, database, log_level)
    #[arg(long, env = "TASK_AGENT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The keys of the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    database: Option<String>,
    log_level: Option<ConfigLoggingLevel>,
}

/// The configuration `serve` runs with.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub log_level: ConfigLoggingLevel,
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
        let database = match (self.database, file.database) {
            (Some(url), _) => url,
            (None, Some(text)) => text
                .parse()
                .map_err(|error: String| anyhow::anyhow!("database: {error}"))?,
            (None, None) => DEFAULT_DATABASE
                .parse()
                .expect("the default database URL parses"),
        };
        Ok(ServeConfig {
            bind: self
                .bind
                .or(file.bind)
                .unwrap_or_else(|| DEFAULT_BIND.parse().expect("the default address parses")),
            database,
            log_level: self
                .log_level
                .or(file.log_level)
                .unwrap_or(ConfigLoggingLevel::Info),
        })
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
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("server.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9000\"\ndatabase = \"sqlite:///tmp/file.db\"\nlog_level = \"debug\"\n")
            .unwrap();
        let from_file = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(from_file.bind.to_string(), "127.0.0.1:9000");
        assert_eq!(
            from_file.database,
            DatabaseUrl::Sqlite("/tmp/file.db".into())
        );
        let flags = ServeArgs {
            bind: Some("127.0.0.1:9001".parse().unwrap()),
            config: Some(path),
            ..Default::default()
        };
        assert_eq!(flags.resolve().unwrap().bind.to_string(), "127.0.0.1:9001");
        let defaults = ServeArgs::default().resolve().unwrap();
        assert_eq!(defaults.bind.to_string(), DEFAULT_BIND);
        assert_eq!(defaults.database.to_string(), DEFAULT_DATABASE);
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("server.toml");
        std::fs::write(&path, "bnd = \"127.0.0.1:9000\"\n").unwrap();
        let error = ServeArgs {
            config: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{error:#}").contains("bnd"), "{error:#}");
    }
}
