//! The server as a separate process, for the tests that need several of
//! them or that kill one.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::TestIdp;

/// The server binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_task-agent-server");

/// A free loopback port (free when this returns; the server binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `task-agent-server serve` process; its log goes to a file.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: tempfile::NamedTempFile,
}

impl ServerProcess {
    /// Starts a server on `database_url` trusting `idp`, and waits until it
    /// answers `/healthz`.
    pub async fn start(database_url: &str, idp: &TestIdp) -> ServerProcess {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(BINARY)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
                database_url,
            ])
            .args([
                "--jwt-issuer",
                &idp.issuer,
                "--jwks-url",
                &idp.jwks_url(),
                "--jwks-refetch-secs",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let mut server = ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_until_answering().await;
        server
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn wait_until_answering(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.url("/healthz");
        loop {
            if let Ok(response) = reqwest::get(&url).await
                && response.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited while starting: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer within a minute"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// `kill -9`: no chance to finish anything.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("it stops")
            .unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- log of the server at {} ---\n{}", self.url, self.log());
        }
    }
}
