//! The `--database` URL and opening the storage it names.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::storage::{Database, SqliteStore};

/// Where the runs are stored.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: a SQLite file (relative paths start in the working
    /// directory; `sqlite:///abs/path` is absolute).
    Sqlite(PathBuf),
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
        Err(format!(
            "unsupported database URL {url:?}: expected sqlite://PATH"
        ))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
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
        }
    }
}
