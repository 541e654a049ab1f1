//! `task-agent-server demo`: a server on SQLite with sample runs, and the
//! commands to try it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::api::RunPath;
use crate::auth::{TokenRequest, WRITE_SCOPE};
use crate::database_url::DatabaseUrl;
use crate::runs;
use crate::samples::SampleRuns;
use crate::server::{AuthConfig, TokenIssuer};
use crate::storage::{Database, Membership, Role};

/// The subject of the printed reader token.
pub const DEMO_READER: &str = "demo-reader";
/// A subject with the writer role, for trying `PUT`.
pub const DEMO_WRITER: &str = "demo-writer";

/// How many sample runs the demo writes.
const DEMO_RUNS: u64 = 60;

/// The demo's sample runs (a fixed seed, so that the printed commands work
/// on every run of the demo).
pub fn samples() -> SampleRuns {
    SampleRuns::new(2026, 2)
}

/// Flags of `demo`.
#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Address to listen on; if it is taken, a free port is used instead
    #[arg(long, default_value = crate::config::DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Directory for the demo's database
    #[arg(long, default_value = "data/demo")]
    pub data_dir: PathBuf,
}

/// Writes the sample runs (again: an unchanged sample is left as it is) and
/// the demo memberships; the number of runs.
pub async fn seed(store: &dyn Database) -> anyhow::Result<u64> {
    let samples = samples();
    for (subject, role) in [(DEMO_READER, Role::Reader), (DEMO_WRITER, Role::Writer)] {
        let membership = Membership {
            org_id: samples.org_id,
            subject: subject.to_owned(),
            role,
        };
        store.put_member(&membership).await?;
    }
    // One transaction for all of them, as import does.
    let writes = (0..DEMO_RUNS)
        .map(|index| {
            let (path, write) = samples.run(index);
            runs::prepare_write(&path, write)
                .map_err(|error| anyhow::anyhow!("seeding {path:?}: {error}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (index, outcome) in store.put_runs(writes).await?.into_iter().enumerate() {
        outcome.map_err(|rejection| anyhow::anyhow!("seeding sample run {index}: {rejection}"))?;
    }
    Ok(DEMO_RUNS)
}

/// The newest sample run (for the printed examples).
pub fn newest_sample() -> RunPath {
    samples().run(DEMO_RUNS - 1).0
}

/// The demo server's authentication: the development issuer in `data_dir`.
pub fn auth_config(data_dir: &std::path::Path) -> AuthConfig {
    AuthConfig {
        issuer: TokenIssuer::Dev {
            data_dir: data_dir.to_path_buf(),
        },
        audience: None,
        leeway: std::time::Duration::from_secs(crate::config::DEFAULT_LEEWAY_SECS),
        jwks_refetch_interval: std::time::Duration::from_secs(
            crate::config::DEFAULT_JWKS_REFETCH_SECS,
        ),
        membership_ttl: crate::server::DEFAULT_MEMBERSHIP_TTL,
    }
}

/// The token the demo prints: a reader of the demo organization, for a day.
pub fn reader_token_request() -> TokenRequest {
    TokenRequest {
        subject: DEMO_READER.to_owned(),
        scopes: vec!["task_agent_runs:read".to_owned()],
        audience: Vec::new(),
        ttl: std::time::Duration::from_secs(24 * 3600),
    }
}

/// What to paste next, for a server at `base_url`.
pub fn instructions(
    base_url: &str,
    database: &DatabaseUrl,
    data_dir: &std::path::Path,
    runs: u64,
    reader_token: &str,
) -> String {
    let newest = newest_sample();
    let runs_url = format!("{base_url}{}", newest.task_agent().runs_path());
    format!(
        "\
Task Agent Runs API demo
  server:   {base_url}
  database: {database} ({runs} sample runs)
  tokens:   development issuer, key in {data_dir}

A reader token of the demo organization (valid for 24 hours):
  export TOKEN={reader_token}

Get one run:
  curl -s -H \"Authorization: Bearer $TOKEN\" {runs_url}/{run_id}

List the failed runs, 5 per page:
  curl -s -H \"Authorization: Bearer $TOKEN\" '{runs_url}?status=failed&page_limit=5'

With the Rust client (from the repository root):
  TASK_AGENT_TOKEN=$TOKEN cargo run -p task-agent-client --example list_runs -- {base_url} {org} {project} {agent}

To write runs, mint a writer token:
  cargo run -p task-agent-server -- token --data-dir {data_dir} --sub {DEMO_WRITER} --scope {WRITE_SCOPE}

Press Ctrl-C to stop.
",
        data_dir = data_dir.display(),
        run_id = newest.run_id,
        org = newest.org_id,
        project = newest.project_id,
        agent = newest.task_agent_id,
    )
}
