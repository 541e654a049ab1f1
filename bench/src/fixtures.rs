//! What the loads send: the paths of existing runs, a new run's body, list
//! pages (the deep one through a real cursor), and the recorded answers the
//! baseline replays.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use task_agent_api::TaskAgentPath;
use task_agent_server::cursor::{self, CursorKey, ListIdentity};
use task_agent_server::database_url::DatabaseUrl;
use task_agent_server::samples::SampleRuns;
use task_agent_server::storage::{Position, RunFilter};

use crate::release_server::{self, ServerBinary, ServerProcess, client_runtime, free_port};
use crate::wrk::write_lines;

/// Runs per page in the list scenario: a page a dashboard would show, small
/// enough that finding the page, not encoding it, is most of the work.
const LIST_PAGE_LIMIT: u32 = 20;

/// Tokens, the development issuer's directory, and the directory for this
/// scenario's files.
pub struct Fixtures {
    pub reader: String,
    pub writer: String,
    pub issuer: PathBuf,
    pub dir: PathBuf,
}

impl Fixtures {
    /// The paths of the `seeded` runs, and a file with them (wrk picks
    /// among them at random).
    pub fn get_paths(&self, samples: &SampleRuns, seeded: u64) -> Result<(Vec<String>, PathBuf)> {
        let file = self.dir.join("get-paths.txt");
        let paths: Vec<String> = (0..seeded)
            .map(|index| samples.run(index).0.path())
            .collect();
        write_lines(&file, paths.iter().cloned())?;
        Ok((paths, file))
    }

    /// Fetches every one of `paths` from the server at `url` and writes
    /// `PATH<TAB>BODY` lines for the baseline.
    pub fn record_responses(&self, url: &str, paths: &[String]) -> Result<PathBuf> {
        let file = self.dir.join("recorded-responses.tsv");
        let http = reqwest::Client::new();
        let bodies: Vec<(String, String)> = client_runtime()?.block_on(
            futures::stream::iter(paths.iter().cloned())
                .map(|path| {
                    let request = http.get(format!("{url}{path}")).bearer_auth(&self.reader);
                    async move {
                        let response = request.send().await?.error_for_status()?;
                        anyhow::Ok((path, response.text().await?))
                    }
                })
                .buffered(16)
                .try_collect(),
        )?;
        write_lines(
            &file,
            bodies
                .into_iter()
                .map(|(path, body)| format!("{path}\t{body}")),
        )?;
        Ok(file)
    }

    /// Serves `database` at log level `log_level`, logging to this
    /// scenario's directory.
    pub fn serve(
        &self,
        server: &ServerBinary,
        database: &str,
        log_level: &str,
    ) -> Result<ServerProcess> {
        let log = self.dir.join(format!("server-{log_level}.log"));
        server.serve(database, &self.issuer, log_level, &log)
    }

    /// Starts a baseline on a free port, answering the recorded requests;
    /// ready once it answers `recorded_path`.
    pub fn start_baseline(
        &self,
        binary: &Path,
        responses: &Path,
        recorded_path: &str,
    ) -> Result<ServerProcess> {
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--responses")
            .arg(responses);
        let log = self.dir.join(
            binary
                .with_extension("log")
                .file_name()
                .context("a binary")?,
        );
        release_server::start(command, port, &log, recorded_path)
    }

    /// The path of the runs of the first task agent (for new runs), and a file with the
    /// body of a new run (one after the `seeded` ones).
    pub fn put_body(&self, samples: &SampleRuns, seeded: u64) -> Result<(String, PathBuf)> {
        let file = self.dir.join("put-body.json");
        let (_, body) = samples.run(seeded);
        std::fs::File::create(&file)?.write_all(&serde_json::to_vec(&body)?)?;
        let runs = TaskAgentPath {
            org_id: samples.org_id,
            project_id: samples.project_id,
            task_agent_id: samples.task_agents[0],
        }
        .runs_path();
        Ok((runs, file))
    }

    /// Files with the path of the first page and of the page `depth` runs
    /// deep of the (only) task agent of `samples`, whose `seeded` runs are
    /// listed newest first: the deep page starts at run `seeded - 1 - depth`.
    /// Both are fetched once from the server at `url` on `database`, to
    /// check that they are what they claim.
    pub fn list_pages(
        &self,
        samples: &SampleRuns,
        seeded: u64,
        depth: u64,
        url: &str,
        database: &str,
    ) -> Result<(PathBuf, PathBuf)> {
        ensure!(
            samples.task_agents.len() == 1,
            "the list scenario has one task agent"
        );
        ensure!(
            depth > 0 && depth < seeded,
            "the deep page is inside the list"
        );
        let (newest, _) = samples.run(seeded - 1);
        let list = format!(
            "{}?page_limit={LIST_PAGE_LIMIT}",
            newest.task_agent().runs_path()
        );
        // The cursor after the run just before the deep page, as the server
        // would have issued it after `depth` runs.
        let (before, before_body) = samples.run(seeded - depth);
        let position = Position {
            created: before_body.created.into(),
            run_id: before.run_id,
        };
        let identity = ListIdentity::new(&newest.task_agent(), &RunFilter::default());
        let runtime = client_runtime()?;
        // Signed with the key the server keeps in its database.
        let key = runtime.block_on(async {
            let database: DatabaseUrl = database.parse().map_err(anyhow::Error::msg)?;
            let stored = database.open().await?.cursor_key().await?;
            anyhow::Ok(CursorKey::new(stored.id, &stored.secret))
        })?;
        let deep = format!(
            "{list}&cursor={}",
            cursor::encode(position, &identity, &key)
        );
        let expected_first = [newest.run_id, samples.run(seeded - 1 - depth).0.run_id];

        let http = reqwest::Client::new();
        runtime.block_on(async {
            for (path, expected) in [&list, &deep].into_iter().zip(expected_first) {
                let page: serde_json::Value = http
                    .get(format!("{url}{path}"))
                    .bearer_auth(&self.reader)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let first = page["results"][0]["id"].as_str().unwrap_or_default();
                if first != expected.to_string() {
                    bail!("{path} starts with {first}, not {expected}");
                }
            }
            Ok(())
        })?;
        let (first_file, deep_file) = (
            self.dir.join("first-page.txt"),
            self.dir.join("deep-page.txt"),
        );
        write_lines(&first_file, [list])?;
        write_lines(&deep_file, [deep])?;
        Ok((first_file, deep_file))
    }
}
