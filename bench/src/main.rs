//! `cargo xbench`: the load tools. The benchmark beside its baselines, the
//! soak test and the sample-run generator drive release builds of the
//! server; they live apart from `cargo xtask`, whose contract checks build
//! only the API crate and progenitor.

mod bench;
mod fixtures;
mod peer;
mod postgres;
mod release_server;
mod report;
mod soak;
mod wrk;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xbench",
    about = "Load tools of the Task Agent Runs API workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the hot paths under loopback load beside bare-hyper and dropshot baselines and the FastAPI peer (see docs/BENCHMARKS.md).
    Run(bench::BenchOptions),
    /// Drive a mixed load (reads, lists, writes, bad requests) against a release build and report errors and memory.
    Soak {
        /// How long, in seconds
        #[arg(long, default_value_t = 180)]
        duration_secs: u64,
        /// Concurrent clients
        #[arg(long, default_value_t = 16, value_parser = at_least_one::<usize>())]
        workers: usize,
        /// Runs written before the load starts
        #[arg(long, default_value_t = 2_000, value_parser = at_least_one::<u64>())]
        seed_runs: u64,
    },
    /// Write realistic sample runs as NDJSON, the format of `task-agent-server import`.
    SampleRuns {
        /// How many runs
        #[arg(long, default_value_t = 1_000)]
        count: u64,
        /// Across how many task agents (the first gets half of the runs)
        #[arg(long, default_value_t = 4)]
        task_agents: usize,
        /// Seed of the generator: the same seed gives the same runs
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file [default: standard output]
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A count that must be 1 or more.
fn at_least_one<T>() -> clap::builder::RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench lives inside the workspace")
        .to_path_buf()
}

fn main() -> Result<ExitCode> {
    Ok(if run(Cli::parse())? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs a tool; `Ok(false)` means a check found a failure (already printed).
fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Run(options) => bench::bench(&options),
        Command::Soak {
            duration_secs,
            workers,
            seed_runs,
        } => soak::soak(
            std::time::Duration::from_secs(duration_secs),
            workers,
            seed_runs,
        ),
        Command::SampleRuns {
            count,
            task_agents,
            seed,
            out,
        } => {
            let samples = task_agent_server::samples::SampleRuns::new(seed, task_agents);
            let output: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::fs::File::create(path)?),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut output = std::io::BufWriter::new(output);
            for index in 0..count {
                writeln!(output, "{}", samples.import_line(index))?;
            }
            output.flush()?;
            Ok(true)
        }
    }
}
