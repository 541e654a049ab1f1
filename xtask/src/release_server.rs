//! A release build of the server, run as a child process the way an
//! operator runs it: for `cargo xtask soak` and `cargo xtask bench`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::spec_file::workspace_root;

/// Builds the release binaries of `packages`; the directory that holds them.
pub fn build(packages: &[&str]) -> Result<PathBuf> {
    let root = workspace_root();
    let mut command = Command::new(env!("CARGO"));
    command.args(["build", "--release", "--quiet"]);
    for package in packages {
        command.args(["-p", package]);
    }
    if !command.current_dir(&root).status()?.success() {
        bail!("building {packages:?} in release mode failed");
    }
    Ok(root.join("target/release"))
}

/// The `task-agent-server` binary and its subcommands.
pub struct ServerBinary(pub PathBuf);

impl ServerBinary {
    /// Runs a subcommand to its end; its standard output.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(&self.0).args(args).output()?;
        if !output.status.success() {
            bail!("{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }

    /// Makes `subject` a member of `org` with `role`.
    pub fn add_member(&self, database: &str, org: &str, subject: &str, role: &str) -> Result<()> {
        self.run(&[
            "members",
            "add",
            "--database",
            database,
            "--org",
            org,
            "--subject",
            subject,
            "--role",
            role,
        ])
        .map(drop)
    }

    /// A day-long token of the development issuer keyed in `data_dir`.
    pub fn token(&self, data_dir: &Path, subject: &str, scopes: &[&str]) -> Result<String> {
        let data_dir = data_dir.to_str().context("a UTF-8 data directory")?;
        let mut args = vec![
            "token",
            "--data-dir",
            data_dir,
            "--sub",
            subject,
            "--ttl-secs",
            "86400",
        ];
        for scope in scopes {
            args.extend(["--scope", scope]);
        }
        self.run(&args)
    }

    /// Imports the NDJSON `lines` into `database` through `import`'s
    /// standard input; its summary line.
    pub fn import(&self, database: &str, lines: impl Iterator<Item = String>) -> Result<String> {
        let mut child = Command::new(&self.0)
            .args(["import", "--database", database, "/dev/stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Rejected lines and fatal errors: the reason a failed import
            // failed.
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut input = std::io::BufWriter::new(child.stdin.take().expect("piped"));
        for line in lines {
            writeln!(input, "{line}")?;
        }
        input.into_inner()?;
        let mut summary = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut summary)?;
        if !child.wait()?.success() {
            bail!("import into {database} failed: {summary}");
        }
        Ok(summary.trim().to_owned())
    }

    /// Serves `database` on a free loopback port with the development issuer
    /// keyed in `data_dir`, logging at `log_level` to `log`.
    pub fn serve(
        &self,
        database: &str,
        data_dir: &Path,
        log_level: &str,
        log: &Path,
    ) -> Result<ServerProcess> {
        let port = free_port()?;
        let child = Command::new(&self.0)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
                "--dev-issuer",
                "--log-level",
                log_level,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        let server = ServerProcess::new(child, port);
        server.wait_until_ready("/readyz")?;
        Ok(server)
    }
}

/// A runtime for the HTTP clients that drive a server (two threads: the
/// server needs the rest of the machine).
pub fn client_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A server process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// `child`, listening (soon) on `port`.
    pub fn new(child: Child, port: u16) -> ServerProcess {
        ServerProcess { child, port }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET path` answers 200 (a minimal HTTP/1.0 request, so
    /// that no client library is needed before the server is up).
    pub fn wait_until_ready(&self, path: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let answered = TcpStream::connect(("127.0.0.1", self.port)).and_then(|mut stream| {
                write!(stream, "GET {path} HTTP/1.0\r\n\r\n")?;
                let mut status = String::new();
                BufReader::new(stream).read_line(&mut status)?;
                Ok(status)
            });
            if answered.is_ok_and(|status| status.split(' ').nth(1) == Some("200")) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server on port {} did not become ready", self.port)
    }

    /// A memory figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), in KiB.
    pub fn memory_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|line| line.starts_with(field))?;
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0)
    }

    /// Restarts the peak RSS (`VmHWM`) from the current RSS, so that the next
    /// reading is the peak of what happens in between.
    pub fn reset_peak_memory(&self) -> Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
            .context("resetting the peak RSS (/proc/PID/clear_refs)")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
