//! PostgreSQL clusters of a test's own (initdb into a temp dir, run as the
//! `postgres` user on a free port), so that stopping one or changing its
//! settings disturbs nothing else.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::process::Command;
use tokio_postgres::{SimpleQueryMessage, SimpleQueryRow};

use super::{free_port, skip};

/// The certificate and key (PEM) a cluster serves TLS with.
pub struct ServerTls {
    pub certificate: String,
    pub key: String,
}

/// A running cluster of the test's own, stopped when dropped.
pub struct ThrowawayPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _directory: tempfile::TempDir,
}

impl ThrowawayPostgres {
    /// A running cluster without TLS, or `None` (the test [`skip`]ped)
    /// where this machine cannot make one: no PostgreSQL binaries, or not
    /// root.
    pub async fn start(test: &str) -> Option<ThrowawayPostgres> {
        ThrowawayPostgres::start_with(test, None).await
    }

    /// As [`start`](ThrowawayPostgres::start), with `ssl = on` serving
    /// `tls` when given (plain connections are still accepted, as with a
    /// default `pg_hba.conf`).
    pub async fn start_with(test: &str, tls: Option<&ServerTls>) -> Option<ThrowawayPostgres> {
        let skip = |why: &str| skip(test, why);
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .find(|bin| bin.join("initdb").exists())
            })
        else {
            skip("no PostgreSQL server binaries under /usr/lib/postgresql");
            return None;
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .await
            .is_ok_and(|output| output.stdout == b"0\n");
        if !root {
            skip("running a cluster as the postgres user needs root");
            return None;
        }
        let directory = tempfile::tempdir().unwrap();
        let data = directory.path().join("data");
        chown_to_postgres(directory.path()).await;
        let cluster = ThrowawayPostgres {
            bin,
            data,
            port: free_port().unwrap(),
            _directory: directory,
        };
        cluster
            .as_postgres(
                "initdb",
                &["-A", "trust", "-U", "postgres", "--no-sync", "-D"],
                Some(&cluster.data),
            )
            .await;
        if let Some(tls) = tls {
            cluster.serve_tls(tls).await;
        }
        cluster.start_server().await;
        Some(cluster)
    }

    /// The certificate and key in the data directory, where PostgreSQL
    /// looks by default, and `ssl = on` in `postgresql.conf` (not on the
    /// command line, so that `ALTER SYSTEM` can still turn it off).
    async fn serve_tls(&self, tls: &ServerTls) {
        for (name, contents) in [("server.crt", &tls.certificate), ("server.key", &tls.key)] {
            let path = self.data.join(name);
            std::fs::write(&path, contents).unwrap();
            // PostgreSQL refuses a key others can read.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            chown_to_postgres(&path).await;
        }
        let configuration = self.data.join("postgresql.conf");
        let mut settings = std::fs::read_to_string(&configuration).unwrap();
        settings.push_str("\nssl = on\n");
        std::fs::write(&configuration, settings).unwrap();
    }

    async fn as_postgres(&self, program: &str, args: &[&str], path: Option<&Path>) {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args);
        if let Some(path) = path {
            command.arg(path);
        }
        let output = command.output().await.unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the (stopped) cluster.
    pub async fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.parent().unwrap().display()
        );
        let log = self.data.parent().unwrap().join("postgres.log");
        let data = self.data.to_str().unwrap();
        self.as_postgres(
            "pg_ctl",
            &[
                "-D",
                data,
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
            None,
        )
        .await;
    }

    /// Stops the cluster at once, as a crash or a network cut would.
    pub async fn stop_server(&self) {
        self.as_postgres(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            None,
        )
        .await;
    }

    /// The URL of the cluster's `postgres` database, as the superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `sql` (one or more statements) as the superuser, on a
    /// connection of its own without TLS: the rows it returned.
    pub async fn execute(&self, sql: &str) -> Vec<SimpleQueryRow> {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        let messages = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
        drop(client);
        connection.await.unwrap().unwrap();
        messages
            .into_iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .collect()
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

async fn chown_to_postgres(path: &Path) {
    assert!(
        Command::new("chown")
            .args(["postgres:postgres"])
            .arg(path)
            .status()
            .await
            .unwrap()
            .success()
    );
}
