//! `cargo xtask`: the tasks that keep `openapi.yaml`, the server and the
//! generated client in sync.

mod client_code;
mod spec_file;
mod spec_sync;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Tasks of the Task Agent Runs API workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check that the server and the generated client agree with openapi.yaml.
    Check,
    /// Regenerate the client from openapi.yaml (client/src/generated.rs).
    Generate,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a task; `Ok(false)` means a check found differences (already printed).
fn run(cli: Cli) -> Result<bool> {
    let spec = spec_file::SpecFile::load()?;
    match cli.command {
        Command::Check => {
            let server =
                spec_sync::compare(&spec.json, &task_agent_server::api::openapi_document());
            print!("{server}");
            let client = client_code::check(&spec)?;
            print!("{client}");
            Ok(server.is_in_sync() && client.is_in_sync())
        }
        Command::Generate => {
            client_code::write(&spec)?;
            println!("wrote {}", client_code::GENERATED_PATH);
            Ok(true)
        }
    }
}
