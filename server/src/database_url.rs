//! The `--database` URL and opening the storage it names.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::storage::{Database, PostgresStore, SqliteStore};

/// Where the runs are stored.
#[derive(Clone, Eq, PartialEq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: a SQLite file (relative paths start in the working
    /// directory; `sqlite:///abs/path` is absolute).
    Sqlite(PathBuf),
    /// `postgres://USER@HOST:PORT/DB?...` (or `postgresql://`): a PostgreSQL
    /// (or CockroachDB) database, in libpq's URL syntax.
    Postgres(String),
}

/// The default database: a SQLite file under `./data`.
pub const DEFAULT_DATABASE: &str = "sqlite://data/task-agent-runs.db";

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, as in sqlite://data/runs.db".to_owned());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        Err(format!(
            "unsupported database URL {url:?}: expected sqlite://PATH or postgres://..."
        ))
    }
}

// Debug output goes to logs too: it shows the URL without its password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

impl DatabaseUrl {
    /// Opens (creating and migrating if needed) the storage.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
                Ok(Arc::new(store))
            }
            DatabaseUrl::Postgres(url) => Ok(Arc::new(PostgresStore::open(url).await?)),
        }
    }
}

/// The URL with its password (if any) replaced by `***`, for logs.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_passwords_stay_out_of_logs() {
        assert_eq!(
            "sqlite://data/x.db".parse(),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            "sqlite:///abs/x.db".parse(),
            Ok(DatabaseUrl::Sqlite("/abs/x.db".into()))
        );
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
        let url: DatabaseUrl = "postgres://app:s3cret@db:5432/runs?sslmode=disable"
            .parse()
            .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db:5432/runs?sslmode=disable"
        );
        let plain: DatabaseUrl = "postgresql://app@db/runs".parse().unwrap();
        assert_eq!(plain.to_string(), "postgresql://app@db/runs");
    }
}
