//! A release build of the server, run as a child process the way an
//! operator runs it: for `cargo xbench soak` and `cargo xbench run`. The
//! process itself is the tests' `ServerProcess` (`task-agent-test-support`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub use task_agent_test_support::{ServerProcess, free_port};

use crate::workspace_root;

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
        let mut command = Command::new(&self.0);
        command
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
            .arg(data_dir);
        start(command, port, log, "/readyz")
    }
}

/// Starts `command`, listening on `port` and logging to `log`, and waits
/// until `GET ready_path` answers 200.
pub fn start(command: Command, port: u16, log: &Path, ready_path: &str) -> Result<ServerProcess> {
    let program = command.get_program().to_owned();
    let mut server = ServerProcess::spawn(command, port, log)
        .with_context(|| format!("starting {}", program.display()))?;
    client_runtime()?
        .block_on(server.wait_until_ready(ready_path))
        .with_context(|| format!("waiting for {} to answer {ready_path}", program.display()))?;
    Ok(server)
}

/// A runtime for the HTTP clients that drive a server (two threads: the
/// server needs the rest of the machine).
pub fn client_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
