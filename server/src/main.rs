//! The `task-agent-server` binary.

use std::process::ExitCode;

use clap::Parser;
use task_agent_server::cli::{Cli, run};

// A request allocates and frees many small buffers across threads; mimalloc
// spends less time on them than the system allocator (see
// docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
