//! The `--database` URL and opening the storage it names.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

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

/// How a database is used: the pool and the statement timeout of
/// PostgreSQL, the memory map of SQLite.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct DatabaseOptions {
    /// Connections kept open at most, per server process (PostgreSQL).
    pub pool_size: NonZeroUsize,
    /// How long one statement may run before PostgreSQL cancels it (and the
    /// request gets 503); `None`: as long as it takes.
    pub statement_timeout: Option<Duration>,
    /// How much of a SQLite file each connection reads through a memory
    /// map rather than `pread` (SQLite's `mmap_size`, in bytes; 0: none).
    pub sqlite_mmap_size: u64,
}

/// The default of [`DatabaseOptions::pool_size`]; docs/OPERATIONS.md has
/// the measurement behind it: on two cores, more connections than this
/// add no throughput, only PostgreSQL backends (each a process with its
/// own memory) and contention.
pub const DEFAULT_POOL_SIZE: NonZeroUsize = NonZeroUsize::new(16).expect("not zero");

/// The default of `serve`'s statement timeout: the statements of a request
/// take milliseconds, so one that runs for seconds is stuck behind a lock
/// or a sick database, and holds one of the pool's few connections while
/// it waits; after this long the client gets 503 with `Retry-After`, well
/// before the usual 30 to 60 s of a client's or load balancer's own
/// timeout, and the same as the wait for a free connection.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default of [`DatabaseOptions::sqlite_mmap_size`], 1 GiB: a GET
/// then reads its pages where the kernel's page cache holds them, without
/// two system calls and two copies (docs/BENCHMARKS.md has the
/// measurement). The map is address space, not memory of the process: its
/// pages are the page cache's, shared and given back under pressure. A
/// larger file is read through the map as far as it reaches, `pread`
/// beyond; SQLite caps the map at 2 GiB.
pub const DEFAULT_SQLITE_MMAP_SIZE: u64 = 1 << 30;

impl DatabaseOptions {
    /// For the command-line tools, tests and benchmarks ([`DatabaseUrl::open`]):
    /// no statement timeout, since someone waits for the answer and an
    /// import's or a migration's long statements must not be cut short.
    pub const TOOLS: DatabaseOptions = DatabaseOptions {
        pool_size: DEFAULT_POOL_SIZE,
        statement_timeout: None,
        sqlite_mmap_size: DEFAULT_SQLITE_MMAP_SIZE,
    };
}

impl DatabaseUrl {
    /// Opens (creating and migrating if needed) the storage, as the
    /// command-line tools use it ([`DatabaseOptions::TOOLS`]).
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        self.open_with(&DatabaseOptions::TOOLS).await
    }

    /// Opens (creating and migrating if needed) the storage, used as
    /// `options` say.
    pub async fn open_with(&self, options: &DatabaseOptions) -> anyhow::Result<Arc<dyn Database>> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                let mmap_size = options.sqlite_mmap_size;
                let store =
                    tokio::task::spawn_blocking(move || SqliteStore::open(&path, mmap_size))
                        .await??;
                Ok(Arc::new(store))
            }
            DatabaseUrl::Postgres(url) => Ok(Arc::new(PostgresStore::open(url, options).await?)),
        }
    }
}

/// The URL with its password (if any) replaced by `***`, for logs.
pub(crate) fn redact_password(url: &str) -> String {
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
