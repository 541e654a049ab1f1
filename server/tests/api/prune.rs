//! Retention: `task-agent-server prune` on both backends, beside a live
//! server (the binary, on the same database) that keeps reading and
//! writing: a list walk in progress neither repeats nor skips a surviving
//! run, `--org` and `--dry-run` keep to their word, a time that is not RFC
//! 3339 is refused, and on SQLite the space comes back.

use std::collections::HashSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use task_agent_client::Client;
use task_agent_client::types::TaskAgentRun;
use task_agent_server::database_url::DatabaseUrl;
use task_agent_server::samples::SampleRuns;
use task_agent_server::storage::{Membership, RetentionScope, Role};
use tokio::process::Command;
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, TestDatabase, TestServer, WRITER, at, minimal_run, put_with,
};

/// A server on a fresh database (through the conformance proxy), and a
/// writer's generated client of it.
struct Live {
    server: TestServer,
}

impl Live {
    async fn start(backend: Backend) -> Live {
        Live {
            server: TestServer::start(backend).await,
        }
    }

    /// The server's database, which `prune` runs on.
    fn storage(&self) -> &TestDatabase {
        self.server.storage()
    }

    async fn agent(&self) -> Agent {
        self.server.agent().await
    }

    /// Writes runs created at `created` into `agent`; their ids.
    async fn put_runs(&self, agent: &Agent, created: &[DateTime<Utc>]) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for instant in created {
            let id = Uuid::new_v4();
            put_with(&self.server.client, agent, id, &minimal_run(*instant), None)
                .await
                .unwrap_or_else(|error| panic!("PUT {id}: {error}"));
            ids.push(id);
        }
        ids
    }

    /// Every run of `agent`, walked page by page.
    async fn all_runs(&self, agent: &Agent) -> Vec<Uuid> {
        let mut walk = Walk::default();
        while walk.next_page(&self.server.client, agent, 100).await {}
        walk.seen
    }
}

/// A walk through the pages of a list, which may pause between pages.
#[derive(Default)]
struct Walk {
    seen: Vec<Uuid>,
    cursor: Option<String>,
    done: bool,
}

impl Walk {
    /// Takes the next page; whether there are more.
    async fn next_page(&mut self, client: &Client, agent: &Agent, limit: u64) -> bool {
        let mut request = agent.list(client).page_limit(limit);
        if let Some(cursor) = self.cursor.take() {
            request = request.cursor(cursor);
        }
        let page = request.send().await.unwrap().into_inner();
        self.seen
            .extend(page.results.iter().map(|run: &TaskAgentRun| run.id));
        self.cursor = page.pagination.next_cursor;
        self.done = self.cursor.is_none();
        !self.done
    }

    /// Asserts that no run was seen twice; the runs seen.
    fn unique(&self) -> HashSet<Uuid> {
        let unique: HashSet<Uuid> = self.seen.iter().copied().collect();
        assert_eq!(unique.len(), self.seen.len(), "a run was seen twice");
        unique
    }
}

/// `time` as the command line takes it.
fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Runs `task-agent-server prune` on `storage` with `args`.
async fn prune(storage: &TestDatabase, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(["prune", "--database", &storage.url_string()])
        .args(args)
        .output()
        .await
        .unwrap()
}

/// Like [`prune`], and it must succeed; its stdout.
async fn prune_ok(storage: &TestDatabase, args: &[&str]) -> String {
    let output = prune(storage, args).await;
    assert!(
        output.status.success(),
        "prune {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn a_list_walk_in_progress_sees_every_surviving_run_once(backend: Backend) {
    let live = Live::start(backend).await;
    let agent = live.agent().await;
    // Four runs a minute for an hour; the cutoff is minute 30, so the four
    // created at exactly that instant survive (the bound is exclusive).
    let created: Vec<_> = (0..240).map(|i| at(i / 4)).collect();
    let ids = live.put_runs(&agent, &created).await;
    let survivors: HashSet<Uuid> = ids
        .iter()
        .zip(&created)
        .filter(|(_, instant)| **instant >= at(30))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(survivors.len(), 120);
    // A second task agent, so that the prune walks from one to the next.
    let sibling = agent.sibling();
    let sibling_created: Vec<_> = (0..50).map(at).collect();
    live.put_runs(&sibling, &sibling_created).await;

    // One walk has taken its first page (all survivors, newest first);
    // another has gone past the cutoff, so its cursor names a run that the
    // prune deletes.
    let mut early = Walk::default();
    assert!(early.next_page(&live.server.client, &agent, 25).await);
    let mut late = Walk::default();
    while late.seen.len() < 130 {
        assert!(late.next_page(&live.server.client, &agent, 13).await);
    }

    let stdout = prune_ok(
        live.storage(),
        &["--created-before", &rfc3339(at(30)), "--batch-size", "7"],
    )
    .await;
    assert!(
        stdout.contains("deleted 150 runs created before 2026-11-01T00:30:00Z"),
        "{stdout}"
    );

    while early.next_page(&live.server.client, &agent, 25).await {}
    assert_eq!(
        early.unique(),
        survivors,
        "the walk saw every survivor, and nothing deleted before it got there"
    );
    let before_prune = late.seen.len();
    while late.next_page(&live.server.client, &agent, 13).await {}
    assert_eq!(
        late.seen.len(),
        before_prune,
        "only deleted runs were left behind the cursor"
    );
    assert!(late.unique().is_superset(&survivors));
    assert_eq!(live.all_runs(&sibling).await.len(), 20);
}

async fn org_limits_the_prune_to_one_organization(backend: Backend) {
    let live = Live::start(backend).await;
    let (pruned, kept) = (live.agent().await, live.agent().await);
    let created: Vec<_> = (0..20).map(at).collect();
    live.put_runs(&pruned, &created).await;
    live.put_runs(&kept, &created).await;

    let org = pruned.org.to_string();
    let stdout = prune_ok(
        live.storage(),
        &["--created-before", &rfc3339(at(10)), "--org", &org],
    )
    .await;
    assert!(
        stdout.contains(&format!("deleted 10 runs of organization {org}")),
        "{stdout}"
    );
    assert_eq!(live.all_runs(&pruned).await.len(), 10);
    assert_eq!(
        live.all_runs(&kept).await.len(),
        20,
        "the other org kept all"
    );
}

async fn a_dry_run_counts_and_deletes_nothing(backend: Backend) {
    let live = Live::start(backend).await;
    let agent = live.agent().await;
    let created: Vec<_> = (0..20).map(at).collect();
    live.put_runs(&agent, &created).await;

    let stdout = prune_ok(
        live.storage(),
        &["--created-before", &rfc3339(at(12)), "--dry-run"],
    )
    .await;
    assert!(
        stdout.contains("would delete 12 runs created before"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing deleted"), "{stdout}");
    assert_eq!(live.all_runs(&agent).await.len(), 20);
}

/// Sample runs (realistic, about 3 KB each) imported with the binary; the
/// instant after the first `expired` of them.
async fn import_samples(
    storage: &TestDatabase,
    samples: &SampleRuns,
    count: u64,
    expired: u64,
) -> DateTime<Utc> {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("runs.ndjson");
    let text: String = (0..count).map(|i| samples.import_line(i) + "\n").collect();
    std::fs::write(&file, text).unwrap();
    let output = Command::new(BINARY)
        .args(["import", "--database", &storage.url_string()])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    samples.start + samples.spacing * i32::try_from(expired).unwrap()
}

async fn the_server_keeps_serving_during_a_prune(backend: Backend) {
    let live = Live::start(backend).await;
    let samples = SampleRuns::new(7, 2);
    let cutoff = import_samples(live.storage(), &samples, 3_000, 2_000).await;
    live.server
        .database
        .put_member(&Membership {
            org_id: samples.org_id,
            subject: WRITER.to_owned(),
            role: Role::Writer,
        })
        .await
        .unwrap();
    let busiest = Agent {
        org: samples.org_id,
        project: samples.project_id,
        task_agent: samples.task_agents[0],
    };
    let survivors: HashSet<Uuid> = (2_000..3_000)
        .map(|i| samples.run(i).0)
        .filter(|path| path.task_agent_id == busiest.task_agent)
        .map(|path| path.run_id)
        .collect();

    let pruning = Arc::new(AtomicBool::new(true));
    let writer = {
        let (client, pruning) = (live.server.client.clone(), pruning.clone());
        tokio::spawn(async move {
            let mut written = Vec::new();
            while pruning.load(Ordering::SeqCst) {
                // Newer than every sample: each lands before the walk's
                // cursor, and must survive.
                let id = Uuid::new_v4();
                let created = at(written.len() as i64);
                put_with(&client, &busiest, id, &minimal_run(created), None)
                    .await
                    .unwrap_or_else(|error| panic!("a PUT during the prune failed: {error}"));
                written.push(id);
            }
            written
        })
    };
    let walker = {
        let (client, pruning) = (live.server.client.clone(), pruning.clone());
        tokio::spawn(async move {
            let mut walk = Walk::default();
            let mut pages_during = 0;
            while walk.next_page(&client, &busiest, 20).await {
                if pruning.load(Ordering::SeqCst) {
                    pages_during += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
            (walk, pages_during)
        })
    };

    let stdout = prune_ok(
        live.storage(),
        &["--created-before", &rfc3339(cutoff), "--batch-size", "100"],
    )
    .await;
    pruning.store(false, Ordering::SeqCst);
    assert!(stdout.contains("deleted 2000 runs"), "{stdout}");
    let written = writer.await.unwrap();
    let (walk, pages_during) = walker.await.unwrap();
    assert!(!written.is_empty(), "runs were written during the prune");
    assert!(pages_during > 0, "pages were read during the prune");
    let seen = walk.unique();
    let missed: Vec<_> = survivors.difference(&seen).collect();
    assert!(missed.is_empty(), "the walk skipped survivors: {missed:?}");

    let stored: HashSet<Uuid> = live.all_runs(&busiest).await.into_iter().collect();
    assert!(
        written.iter().all(|id| stored.contains(id)),
        "every run written during the prune is stored"
    );
    assert_eq!(stored.len(), survivors.len() + written.len());
}

crate::backend_tests!(
    a_list_walk_in_progress_sees_every_surviving_run_once,
    org_limits_the_prune_to_one_organization,
    a_dry_run_counts_and_deletes_nothing,
    the_server_keeps_serving_during_a_prune,
);

#[tokio::test]
async fn a_time_that_is_not_rfc_3339_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("runs.db");
    let database = format!("sqlite://{}", file.display());
    for time in [
        "yesterday",
        "2025-01-31",
        "2025-01-31T00:00:00",
        "2025-01-31 00:00:00",
        "1738281600",
    ] {
        let output = Command::new(BINARY)
            .args(["prune", "--database", &database, "--created-before", time])
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{time}: {stderr}");
        assert!(
            stderr.contains("expected an RFC 3339 instant with an offset"),
            "{time}: {stderr}"
        );
    }
    assert!(!file.exists(), "no database was opened");
}

/// The pages of a SQLite file: how many, and how many are free.
fn pages(path: &Path) -> (i64, i64) {
    let connection = rusqlite::Connection::open(path).unwrap();
    let pragma = |name: &str| -> i64 {
        connection
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    };
    (pragma("page_count"), pragma("freelist_count"))
}

fn sqlite_path(storage: &TestDatabase) -> &Path {
    match &storage.url {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(_) => unreachable!("a SQLite database"),
    }
}

/// A file of this version uses incremental auto-vacuum: the prune cuts the
/// pages of the deleted runs from the file, while a server has it open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_prune_gives_the_space_back() {
    let live = Live::start(Backend::Sqlite).await;
    let path = sqlite_path(live.storage());
    let samples = SampleRuns::new(8, 3);
    let cutoff = import_samples(live.storage(), &samples, 3_000, 2_400).await;
    let (before, _) = pages(path);

    let stdout = prune_ok(live.storage(), &["--created-before", &rfc3339(cutoff)]).await;
    assert!(stdout.contains("deleted 2400 runs"), "{stdout}");
    assert!(stdout.contains("MB back to the file system"), "{stdout}");
    assert!(!stdout.contains("stay free"), "{stdout}");
    let (after, free) = pages(path);
    assert_eq!(free, 0, "no free pages are left in the file");
    assert!(
        after * 3 < before,
        "{before} pages before the prune, {after} after"
    );
    let scope = RetentionScope {
        created_before: cutoff.into(),
        org_id: None,
    };
    assert_eq!(live.server.database.count_expired(&scope).await.unwrap(), 0);
}

/// A file made before incremental auto-vacuum keeps the free pages (new
/// runs reuse them) until `prune --vacuum` rewrites it, which also makes it
/// give space back by itself from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_an_older_file_gives_the_space_back_with_vacuum() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let path = sqlite_path(&storage);
    // What an older version left: a file whose first table is made, so
    // its auto_vacuum mode is fixed to none.
    storage
        .sqlite_connection()
        .execute_batch(
            "CREATE TABLE schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
             )",
        )
        .unwrap();
    let samples = SampleRuns::new(9, 3);
    let cutoff = import_samples(&storage, &samples, 3_000, 2_400).await;
    let (before, _) = pages(path);

    let stdout = prune_ok(&storage, &["--created-before", &rfc3339(cutoff)]).await;
    assert!(stdout.contains("deleted 2400 runs"), "{stdout}");
    assert!(
        stdout.contains("stay free inside the file for new runs (prune --vacuum gives them back)"),
        "{stdout}"
    );
    let (kept, free) = pages(path);
    assert_eq!(kept, before, "the file kept its size");
    assert!(free * 2 > before, "{free} of {before} pages are free");

    let stdout = prune_ok(
        &storage,
        &["--created-before", &rfc3339(cutoff), "--vacuum"],
    )
    .await;
    assert!(stdout.contains("deleted 0 runs"), "{stdout}");
    assert!(!stdout.contains("stay free"), "{stdout}");
    let (after, free) = pages(path);
    assert_eq!(free, 0);
    assert!(after * 3 < before, "{before} pages before, {after} after");
    let auto_vacuum: i64 = storage
        .sqlite_connection()
        .pragma_query_value(None, "auto_vacuum", |row| row.get(0))
        .unwrap();
    assert_eq!(auto_vacuum, 2, "the file now uses incremental auto-vacuum");
}

#[tokio::test]
async fn vacuum_is_refused_on_postgres() {
    let output = Command::new(BINARY)
        .args([
            "prune",
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
            "--created-before",
            "2025-01-31T00:00:00Z",
            "--vacuum",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--vacuum is for SQLite"), "{stderr}");
}
