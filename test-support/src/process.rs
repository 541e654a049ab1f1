//! A server as a child process on a loopback port, the way an operator runs
//! it: for the tests that run several servers or kill one, and for the load
//! tools that measure one.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::TestIdp;
use crate::port::free_port;

/// How long a server may take to answer its readiness path.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a server may take to stop after SIGTERM.
const STOPPED_WITHIN: Duration = Duration::from_secs(30);
/// How often the state of the process is looked at while waiting for it.
const POLL: Duration = Duration::from_millis(50);

/// A server process listening on a loopback port: its standard output
/// discarded, its standard error in a log file.
///
/// It is killed when dropped, and when dropped while the thread panics (a
/// failing test), its log is printed, since that is where the reason is.
///
/// Waiting methods are `async` and only sleep between looks, so that a
/// test's runtime (perhaps a single thread that also runs the identity
/// provider the server fetches keys from) keeps running while the server
/// starts or stops; synchronous callers `block_on` them.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    port: u16,
    base_url: String,
    log: PathBuf,
    /// The log when the caller did not choose where it goes: deleted with
    /// the process.
    _temporary_log: Option<tempfile::TempPath>,
}

impl ServerProcess {
    /// Spawns `command`, a server that is to listen on `127.0.0.1:port`,
    /// with its standard error going to a new file at `log` (which the
    /// caller keeps) and its standard output discarded.
    ///
    /// It does not wait for the server: see
    /// [`wait_until_ready`](ServerProcess::wait_until_ready).
    pub fn spawn(command: Command, port: u16, log: &Path) -> io::Result<ServerProcess> {
        ServerProcess::spawn_logging(command, port, log.to_path_buf(), None)
    }

    /// Starts `task-agent-server serve` (the binary at `binary`) on a free
    /// port with the database at `database_url`, trusting `idp` (refetching
    /// its keys at most every second, so that key rotation tests need not
    /// wait), and waits until it answers `/healthz`.
    ///
    /// The binary's path comes from the caller because only the integration
    /// tests of the server know it (`env!("CARGO_BIN_EXE_task-agent-server")`).
    ///
    /// # Panics
    ///
    /// If the server does not start or answer: this is for tests.
    pub async fn start(
        binary: impl AsRef<Path>,
        database_url: &str,
        idp: &TestIdp,
    ) -> ServerProcess {
        ServerProcess::start_with_flags(binary, database_url, idp, &[]).await
    }

    /// As [`ServerProcess::start`], with `flags` added to the `serve`
    /// command (`--sqlite-mmap-mib 0`, say).
    ///
    /// # Panics
    ///
    /// If the server does not start or answer: this is for tests.
    pub async fn start_with_flags(
        binary: impl AsRef<Path>,
        database_url: &str,
        idp: &TestIdp,
        flags: &[&str],
    ) -> ServerProcess {
        let port = free_port().expect("a free loopback port");
        let mut command = Command::new(binary.as_ref());
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database", database_url])
            .args(["--jwt-issuer", &idp.issuer, "--jwks-url", &idp.jwks_url()])
            .args(["--jwks-refetch-secs", "1"])
            .args(flags);
        let log = tempfile::NamedTempFile::new()
            .expect("a temporary log file")
            .into_temp_path();
        let mut server = ServerProcess::spawn_logging(command, port, log.to_path_buf(), Some(log))
            .unwrap_or_else(|error| {
                panic!("{} does not start: {error}", binary.as_ref().display())
            });
        if let Err(error) = server.wait_until_ready("/healthz").await {
            panic!("{error}");
        }
        server
    }

    fn spawn_logging(
        mut command: Command,
        port: u16,
        log: PathBuf,
        temporary_log: Option<tempfile::TempPath>,
    ) -> io::Result<ServerProcess> {
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        Ok(ServerProcess {
            child,
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
            _temporary_log: temporary_log,
        })
    }

    /// Waits until `GET path` answers 200, for up to a minute; fails early
    /// if the process exits.
    pub async fn wait_until_ready(&mut self, path: &str) -> io::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        let http = reqwest::Client::builder()
            // A server that accepts but does not answer yet is asked again.
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(io::Error::other)?;
        let url = self.url(path);
        loop {
            if let Ok(response) = http.get(&url).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "the server on port {} exited while starting ({status}); its log is {}",
                    self.port,
                    self.log.display()
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "GET {url} did not answer 200 within {READY_WITHIN:?}; the log is {}",
                        self.log.display()
                    ),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where its standard error goes.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|error| {
            format!("(the log {} is unreadable: {error})", self.log.display())
        })
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`: no chance to finish anything. Returns once it is gone.
    pub fn kill(&mut self) -> io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }

    /// SIGTERM (a graceful stop), then its exit status, waiting up to 30
    /// seconds.
    pub async fn terminate(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        // `kill` the command: sending a signal directly would need unsafe
        // code or another dependency.
        let sent = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .await?;
        if !sent.success() {
            return Err(io::Error::other(format!(
                "kill -TERM {}: {sent}",
                self.pid()
            )));
        }
        let deadline = Instant::now() + STOPPED_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the server did not stop within {STOPPED_WITHIN:?} of SIGTERM"),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A memory figure of `/proc/PID/status` in KiB: `field` is its label
    /// with the colon, `VmRSS:` (resident now) or `VmHWM:` (peak resident).
    pub fn memory_kib(&self, field: &str) -> io::Result<u64> {
        self.memory_fields_kib([field]).map(|[kib]| kib)
    }

    /// Several memory figures of `/proc/PID/status` in KiB, as
    /// [`memory_kib`](ServerProcess::memory_kib) reads one: from a single
    /// read of the file, so that they are of the same moment (`RssAnon:`
    /// and `RssFile:` together, say) and sampling them often stays cheap.
    pub fn memory_fields_kib<const N: usize>(&self, fields: [&str; N]) -> io::Result<[u64; N]> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let mut figures = [0; N];
        for (field, figure) in fields.iter().zip(&mut figures) {
            *figure = status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("no {field} in /proc/{}/status", self.pid()),
                    )
                })?;
        }
        Ok(figures)
    }

    /// Restarts the peak resident size (`VmHWM:`) from the current one, so
    /// that the next reading is the peak of what happens in between.
    pub fn reset_peak_memory(&self) -> io::Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- log of the server at {} ---\n{}",
                self.base_url,
                self.log()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_log() -> tempfile::TempPath {
        tempfile::NamedTempFile::new().unwrap().into_temp_path()
    }

    #[tokio::test]
    async fn waiting_fails_early_when_the_process_exits() {
        let log = temporary_log();
        let mut command = Command::new("sh");
        command.args(["-c", "echo starting >&2; exit 3"]);
        let mut process = ServerProcess::spawn(command, free_port().unwrap(), &log).unwrap();
        let started = Instant::now();
        let error = process.wait_until_ready("/healthz").await.unwrap_err();
        assert!(
            error.to_string().contains("exited while starting"),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(process.log(), "starting\n");
    }

    #[tokio::test]
    async fn a_running_process_is_measured_and_terminated() {
        let log = temporary_log();
        let mut command = Command::new("sleep");
        command.arg("60");
        let mut process = ServerProcess::spawn(command, free_port().unwrap(), &log).unwrap();
        assert!(process.is_running());
        assert!(process.memory_kib("VmRSS:").unwrap() > 0);
        assert!(process.memory_kib("NoSuchField:").is_err());
        // Read at once, the parts add up to the whole (the values
        // themselves depend on how far the child has got since exec).
        let [rss, anon, file, shared] = process
            .memory_fields_kib(["VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"])
            .unwrap();
        assert_eq!(
            rss,
            anon + file + shared,
            "RssAnon {anon} KiB, RssFile {file} KiB, RssShmem {shared} KiB"
        );
        assert!(
            process
                .memory_fields_kib(["RssAnon:", "NoSuchField:"])
                .is_err()
        );
        let status = process.terminate().await.unwrap();
        assert!(!status.success());
        assert!(!process.is_running());
    }
}
