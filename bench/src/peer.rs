//! The FastAPI peer of `../shared/bench`, measured beside this server by
//! that kit's own runner (`compare.sh`: the same seeded data, the same GET
//! load, alternating rounds).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::bench::BenchOptions;

/// Runs seeded by the kit (through `PUT`, so fewer than ours).
const PEER_RUNS: u64 = 20_000;

/// One side of the comparison (medians over the rounds).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PeerSide {
    pub label: String,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// What `compare.sh` reported.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PeerComparison {
    /// The FastAPI peer.
    pub a: PeerSide,
    /// This server.
    pub b: PeerSide,
    pub max_other_cpu_share: f64,
}

/// Runs `compare.sh fastapi task-agent-server:BINARY` from `kit`.
pub fn compare(kit: &Path, server: &Path, options: &BenchOptions) -> Result<PeerComparison> {
    let script = kit.join("compare.sh");
    if !script.exists() {
        bail!(
            "{} is missing (--peer-kit none skips the peer)",
            script.display()
        );
    }
    eprintln!(
        "measuring the FastAPI peer beside this server ({}) ...",
        script.display()
    );
    let output = Command::new("bash")
        .arg(&script)
        .args(["--rounds", &options.rounds.to_string()])
        .args(["--duration", &format!("{}s", options.duration_secs)])
        .args(["--warmup", &format!("{}s", options.warmup_secs)])
        .args(["--runs", &PEER_RUNS.to_string()])
        .arg("fastapi")
        .arg(format!("task-agent-server:{}", server.display()))
        .stderr(Stdio::inherit())
        .output()
        .context("running the peer kit's compare.sh")?;
    if !output.status.success() {
        bail!("compare.sh failed ({})", output.status);
    }
    let stdout = String::from_utf8(output.stdout)?;
    let summary = stdout
        .lines()
        .last()
        .context("compare.sh printed nothing")?;
    serde_json::from_str(summary).with_context(|| format!("compare.sh printed {summary}"))
}
