//! `task-agent`: the command-line client of the Task Agent Runs API.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    if task_agent_client::cli::run(std::env::args_os(), &mut out, &mut err).await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
