//! The load generator: wrk (Debian's package), driven by the Lua scripts in
//! `bench/`, each of which prints its result as one JSON line.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::workspace_root;

/// Installs wrk with apt-get when it is missing.
pub fn ensure_installed() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("installing wrk with apt-get ...");
    let apt = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get (wrk is needed: apt-get install wrk)")?;
        if !status.success() {
            bail!("apt-get {args:?} failed (wrk is needed: apt-get install wrk)");
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "wrk"])
}

/// One load: which script, against what, how hard and how long.
pub struct Load<'a> {
    /// A script in `bench/` (`get_paths.lua`, `put_runs.lua`).
    pub script: &'a str,
    pub url: &'a str,
    /// The script's arguments (after `--`).
    pub args: Vec<String>,
    pub token: &'a str,
    pub connections: u32,
    pub duration: Duration,
}

/// What wrk measured.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct Measured {
    pub requests: u64,
    pub requests_per_s: f64,
    pub latency_ms: Latency,
    pub errors: Errors,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct Errors {
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
    /// Answers other than 2xx and 3xx.
    pub status: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout + self.status
    }
}

impl Load<'_> {
    /// Runs wrk (two threads: the machine's cores are shared with the
    /// server, as a client on the same host would share them).
    pub fn run(&self) -> Result<Measured> {
        let script = workspace_root().join("bench").join(self.script);
        let output = Command::new("wrk")
            .arg("--threads")
            .arg(self.connections.min(2).to_string())
            .arg("--connections")
            .arg(self.connections.to_string())
            .arg("--duration")
            .arg(format!("{}s", self.duration.as_secs()))
            .args(["--timeout", "5s", "--latency", "--script"])
            .arg(&script)
            .arg(self.url)
            .arg("--")
            .args(&self.args)
            .env("BENCH_TOKEN", self.token)
            .output()
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix("BENCH_JSON "))
            .with_context(|| {
                format!(
                    "wrk printed no result: {stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        Ok(serde_json::from_str(line)?)
    }
}

/// Writes `lines` to `path`, one per line (for the scripts' arguments).
pub fn write_lines(path: &Path, lines: impl IntoIterator<Item = String>) -> Result<()> {
    let text: String = lines.into_iter().map(|line| line + "\n").collect();
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
