//! `cargo xtask`: the tasks that keep `openapi.yaml`, the server and the
//! generated client in sync. They build the API crate, the reference page
//! and progenitor, never the server: checking the contract compiles no
//! storage or auth code. The load tools are `cargo xbench` (`bench/`).

mod client_code;
mod compat;
mod spec_file;
mod spec_sync;

use std::path::{Path, PathBuf};
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
    /// Check that the server and the generated client agree with openapi.yaml, and that
    /// info.version says how openapi.yaml changed since the latest released contract.
    Check {
        #[command(flatten)]
        contract: ContractPaths,
    },
    /// Record openapi.yaml as the released contract of its info.version
    /// (openapi/released/<version>.yaml); commit the file with the release.
    ReleaseSpec {
        #[command(flatten)]
        contract: ContractPaths,
    },
    /// Regenerate the client, its CLI and its mocks from openapi.yaml (client/src/generated*.rs).
    Generate,
    /// Classify the changes from one contract to another and print the worst
    /// impact last (the client matrix sets this verdict beside what clients do).
    #[command(hide = true)]
    Compare {
        /// The older contract
        older: PathBuf,
        /// The newer contract
        newer: PathBuf,
    },
    /// Write the API reference as a static site (HTML, Scalar's bundle, the spec) to host anywhere.
    Docs {
        /// Output directory
        #[arg(long, default_value = "target/api-docs")]
        out: std::path::PathBuf,
    },
}

/// Where the contract and its released versions are. Hidden: only the
/// tests of these commands point them elsewhere.
#[derive(clap::Args)]
struct ContractPaths {
    /// The spec [default: openapi.yaml]
    #[arg(long, hide = true, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// The released contracts [default: openapi/released]
    #[arg(long, hide = true, value_name = "DIR")]
    released: Option<PathBuf>,
}

impl ContractPaths {
    fn spec(&self) -> PathBuf {
        self.spec
            .clone()
            .unwrap_or_else(|| spec_file::workspace_root().join(spec_file::SPEC_PATH))
    }

    fn released(&self) -> compat::ReleasedContracts {
        compat::ReleasedContracts::new(
            self.released
                .clone()
                .unwrap_or_else(|| spec_file::workspace_root().join(compat::RELEASED_DIR)),
        )
    }
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
    match cli.command {
        Command::Check { contract: paths } => {
            let contract = compat::Contract::read(&paths.spec())?;
            let spec = spec_file::SpecFile {
                json: contract.json.clone(),
            };
            let server = spec_sync::compare(&spec.json, &task_agent_api::openapi_document());
            print!("{server}");
            // Before the client: generating it can fail (even panic) on a
            // spec whose compatibility report still explains what changed.
            let released = compat::check(&contract, &paths.released())?;
            print!("{released}");
            let client = client_code::check(&spec)?;
            print!("{client}");
            Ok(server.is_in_sync() && client.is_in_sync() && released.passes())
        }
        Command::ReleaseSpec { contract: paths } => {
            let contract = compat::Contract::read(&paths.spec())?;
            let shown = |path: &Path| {
                let root = spec_file::workspace_root();
                path.strip_prefix(&root)
                    .unwrap_or(path)
                    .display()
                    .to_string()
            };
            match compat::release(&contract, &paths.released())? {
                compat::Release::Done(compat::Recorded::Written(path)) => println!(
                    "recorded {} (info.version {}) as {}; commit it",
                    shown(&paths.spec()),
                    contract.version,
                    shown(&path)
                ),
                compat::Release::Done(compat::Recorded::AlreadyThere(path)) => println!(
                    "{} already records {} (info.version {}) byte for byte; nothing to do",
                    shown(&path),
                    shown(&paths.spec()),
                    contract.version
                ),
                compat::Release::Refused(report) => {
                    print!("{report}");
                    eprintln!(
                        "not recorded: info.version {} does not say what changed since the latest release",
                        contract.version
                    );
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Command::Compare { older, newer } => {
            let report = compat::compare(
                &compat::Contract::read(&older)?,
                None,
                &compat::Contract::read(&newer)?,
            )?;
            print!("{report}");
            let worst = report.worst().map_or("none", compat::Impact::name);
            println!("worst impact: {worst}");
            Ok(true)
        }
        Command::Docs { out } => {
            use task_agent_api_docs as docs;
            std::fs::create_dir_all(&out)?;
            let page = docs::reference_html("openapi.json", docs::BUNDLE_FILE, None);
            std::fs::write(out.join("index.html"), page)?;
            std::fs::write(out.join(docs::BUNDLE_FILE), docs::bundle())?;
            std::fs::write(out.join("openapi.yaml"), docs::SPEC_YAML)?;
            std::fs::write(out.join("openapi.json"), docs::spec_json())?;
            println!(
                "wrote the API reference to {} (open index.html through any static web server)",
                out.display()
            );
            Ok(true)
        }
        Command::Generate => {
            client_code::write(&spec_file::SpecFile::load()?)?;
            for (path, _) in client_code::GENERATED {
                println!("wrote {path}");
            }
            Ok(true)
        }
    }
}
