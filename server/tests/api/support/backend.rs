//! The two storage backends every test runs against: SQLite in a temp dir,
//! and PostgreSQL in a schema of its own in the database named by
//! `TASK_AGENT_TEST_POSTGRES_URL` (created for the test, dropped after it).

use task_agent_server::database_url::DatabaseUrl;
use tempfile::TempDir;

/// The variable that names the PostgreSQL database of the tests.
pub const POSTGRES_URL_VARIABLE: &str = "TASK_AGENT_TEST_POSTGRES_URL";

/// A storage backend.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// PostgreSQL when the tests have a database; otherwise `test` is
    /// [`skip`](super::skip)ped.
    pub fn postgres_or_skip(test: &str) -> Option<Backend> {
        if std::env::var_os(POSTGRES_URL_VARIABLE).is_some() {
            return Some(Backend::Postgres);
        }
        super::skip(
            &format!("postgres::{test}"),
            &format!("{POSTGRES_URL_VARIABLE} is not set"),
        );
        None
    }
}

/// A fresh, empty database, removed when dropped.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(#[allow(dead_code)] TempDir),
    Schema { admin_url: String, schema: String },
}

impl TestDatabase {
    /// A new database on `backend`.
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("a temp dir");
                let url = DatabaseUrl::Sqlite(directory.path().join("runs.db"));
                TestDatabase {
                    url,
                    cleanup: Cleanup::Directory(directory),
                }
            }
            Backend::Postgres => {
                let admin_url =
                    std::env::var(POSTGRES_URL_VARIABLE).expect("checked by postgres_or_skip");
                let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
                admin(&admin_url, &format!("CREATE SCHEMA {schema}")).await;
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                TestDatabase {
                    url: DatabaseUrl::Postgres(url),
                    cleanup: Cleanup::Schema { admin_url, schema },
                }
            }
        }
    }

    /// The URL as the command line takes it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }
}

/// Holds the write lock of a test database until dropped.
pub enum WriteLock {
    Sqlite(#[allow(dead_code)] rusqlite::Connection),
    Postgres(
        #[allow(dead_code)] tokio_postgres::Client,
        tokio::task::JoinHandle<()>,
    ),
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        if let WriteLock::Postgres(_, connection) = self {
            connection.abort();
        }
    }
}

impl TestDatabase {
    /// A connection of another client to the SQLite file, to change it
    /// behind the server's back.
    pub fn sqlite_connection(&self) -> rusqlite::Connection {
        let DatabaseUrl::Sqlite(path) = &self.url else {
            panic!("not a SQLite database: {}", self.url_string())
        };
        rusqlite::Connection::open(path).unwrap()
    }

    /// Runs `sql` on a connection of another client, behind the server's
    /// back; the database's error message if it refused.
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        match &self.url {
            DatabaseUrl::Sqlite(_) => self
                .sqlite_connection()
                .execute_batch(sql)
                .map_err(|error| error.to_string()),
            DatabaseUrl::Postgres(url) => postgres_batch(url, sql).await.map_err(|error| {
                error
                    .as_db_error()
                    .map_or_else(|| error.to_string(), |db| db.message().to_owned())
            }),
        }
    }

    /// Takes the lock that writes of runs need, as a long transaction of
    /// another client would; reads go on.
    pub async fn lock_writes(&self) -> WriteLock {
        match &self.url {
            DatabaseUrl::Sqlite(_) => {
                let connection = self.sqlite_connection();
                connection.execute_batch("BEGIN EXCLUSIVE").unwrap();
                WriteLock::Sqlite(connection)
            }
            DatabaseUrl::Postgres(url) => {
                let (client, connection) = postgres_client(url).await;
                client
                    .batch_execute("BEGIN; LOCK TABLE task_agent_runs IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                WriteLock::Postgres(client, connection)
            }
        }
    }
}

/// A client of the PostgreSQL database at `url`, with the task that drives
/// its connection.
async fn postgres_client(url: &str) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("connecting to {POSTGRES_URL_VARIABLE}: {error}"));
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    (client, connection)
}

/// Runs `sql` on a connection of its own to `url`, closed afterwards.
async fn postgres_batch(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = postgres_client(url).await;
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = connection.await;
    result
}

/// Runs `sql` on the administrative connection.
async fn admin(url: &str, sql: &str) {
    postgres_batch(url, sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Schema { admin_url, schema } = &self.cleanup {
            let (admin_url, sql) = (
                admin_url.clone(),
                format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            );
            // Drop may run inside or outside a runtime; a thread of its own
            // works in both.
            let dropped = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(admin(&admin_url, &sql))
            })
            .join();
            if dropped.is_err() && !std::thread::panicking() {
                panic!("dropping the test schema failed");
            }
        }
    }
}

/// Declares each listed `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::support::Backend::postgres_or_skip(stringify!($name)) {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}
