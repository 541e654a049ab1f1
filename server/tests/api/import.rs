//! `task-agent-server import`: good lines are imported in batches, bad ones
//! are reported by number without stopping the rest, on both backends.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use task_agent_server::api::TaskAgentPath;
use task_agent_server::database_url::DatabaseUrl;
use task_agent_server::samples::SampleRuns;
use task_agent_server::storage::{Database, ListedRun, RunFilter};
use tokio::process::Command;

use crate::support::{BINARY, Backend, TestDatabase};

/// Runs `task-agent-server import FILE` into `storage`, with `options`.
async fn import(storage: &TestDatabase, file: &Path, options: &[&str]) -> Output {
    Command::new(BINARY)
        .args(["import", "--database", &storage.url_string()])
        .args(options)
        .arg(file)
        .output()
        .await
        .unwrap()
}

/// A file of the first `count` runs of `samples`, one per line.
fn sample_file(directory: &Path, samples: &SampleRuns, count: u64) -> PathBuf {
    let file = directory.join("runs.ndjson");
    let text: String = (0..count).map(|i| samples.import_line(i) + "\n").collect();
    std::fs::write(&file, text).unwrap();
    file
}

/// Up to `limit` runs of the first task agent of `samples`.
async fn first_agent_runs(
    database: &dyn Database,
    samples: &SampleRuns,
    limit: usize,
) -> Vec<ListedRun> {
    let task_agent = TaskAgentPath {
        org_id: samples.org_id,
        project_id: samples.project_id,
        task_agent_id: samples.task_agents[0],
    };
    database
        .list_runs(&task_agent, &RunFilter::default(), None, limit)
        .await
        .unwrap()
}

async fn import_lines(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    // A data set whose first 20 runs include finished and unfinished ones.
    let mixed = |samples: &SampleRuns| {
        let terminal: Vec<bool> = (0..20)
            .map(|i| samples.run(i).1.status.is_terminal())
            .collect();
        terminal.contains(&true) && terminal.contains(&false)
    };
    let samples = (42..)
        .map(|seed| SampleRuns::new(seed, 1))
        .find(mixed)
        .unwrap();
    let line = |index: u64| -> Value { serde_json::from_str(&samples.import_line(index)).unwrap() };
    let first_terminal = (0..20)
        .find(|&i| samples.run(i).1.status.is_terminal())
        .expect("a finished run among the first 20");
    let first_running = (0..20)
        .find(|&i| !samples.run(i).1.status.is_terminal())
        .expect("an unfinished run among the first 20");
    let mut changed_terminal = line(first_terminal);
    changed_terminal["session_id"] = json!("changed");
    let mut changed_running = line(first_running);
    changed_running["session_id"] = json!("changed");
    let mut bad_sum = line(900);
    bad_sum["total_tokens"] = json!(1);
    let mut no_id = line(901);
    no_id.as_object_mut().unwrap().remove("id");
    let mut unknown_field = line(902);
    unknown_field["colour"] = json!("blue");

    let mut lines: Vec<String> = (0..20).map(|i| line(i).to_string()).collect(); // lines 1-20
    lines.push("{not json".to_owned()); // 21
    lines.push(bad_sum.to_string()); // 22
    lines.push(String::new()); // 23: blank, skipped
    lines.push(no_id.to_string()); // 24
    lines.push(unknown_field.to_string()); // 25
    lines.push(line(0).to_string()); // 26: the same again
    lines.push(changed_terminal.to_string()); // 27: a finished run may not change
    lines.push(changed_running.to_string()); // 28: a running one may
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("runs.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let output = import(&storage, &file, &["--batch-size", "3"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "rejected lines make the exit status 1: {stderr}"
    );
    assert!(
        stdout.contains("imported 22 runs (20 created, 1 replaced, 1 unchanged) from 28 lines"),
        "{stdout}"
    );
    for expected in [
        "line 21: not a JSON object",
        "line 22: total_tokens: must equal",
        "line 24: id: missing",
        "line 25: unknown field `colour`",
        &format!(
            "line 27: the run is {}",
            samples.run(first_terminal).1.status.as_str()
        ),
        "5 lines were rejected",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }

    let database = storage.url.open().await.unwrap();
    let stored = first_agent_runs(database.as_ref(), &samples, 100).await;
    assert_eq!(stored.len(), 20, "the 20 good runs, once each");
    let (terminal_path, terminal_write) = samples.run(first_terminal);
    let kept = database.get_run(&terminal_path).await.unwrap().unwrap();
    let kept: Value = serde_json::from_str(kept.run.json()).unwrap();
    assert_eq!(
        kept["session_id"],
        json!(terminal_write.session_id.0),
        "the finished run kept its version"
    );
    let replaced = database
        .get_run(&samples.run(first_running).0)
        .await
        .unwrap()
        .unwrap();
    let replaced: Value = serde_json::from_str(replaced.run.json()).unwrap();
    assert_eq!(
        replaced["session_id"], "changed",
        "the running run took the later line"
    );
}

async fn a_clean_import_succeeds_and_can_be_repeated(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let samples = SampleRuns::new(43, 3);
    let directory = tempfile::tempdir().unwrap();
    let file = sample_file(directory.path(), &samples, 2_500);
    for (round, expected) in [
        (1, "(2500 created, 0 replaced, 0 unchanged)"),
        (2, "(0 created, 0 replaced, 2500 unchanged)"),
    ] {
        let output = import(&storage, &file, &[]).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains(expected), "round {round}: {stdout}");
    }
}

crate::backend_tests!(import_lines, a_clean_import_succeeds_and_can_be_repeated);

/// A server keeps a read transaction open between its own writes (to spare
/// its readers a lock each); it must not keep SQLite from checkpointing and
/// starting the WAL over while another process writes, or the WAL would grow
/// by all that process writes.
#[tokio::test]
async fn on_sqlite_an_import_beside_a_running_server_keeps_the_wal_small() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let DatabaseUrl::Sqlite(path) = &storage.url else {
        unreachable!("a SQLite database")
    };
    let serving = storage.url.open().await.unwrap();
    let samples = SampleRuns::new(44, 1);
    let directory = tempfile::tempdir().unwrap();
    let file = sample_file(directory.path(), &samples, 8_000);

    let output = import(&storage, &file, &["--batch-size", "200"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let database_size = std::fs::metadata(path).unwrap().len();
    let wal_size = std::fs::metadata(path.with_extension("db-wal"))
        .unwrap()
        .len();
    assert!(
        database_size > 20 << 20,
        "the import wrote {database_size} bytes of runs"
    );
    // SQLite starts the WAL over once it is checkpointed, so the file never
    // grows much past what is written between two checkpoints (1000 pages)
    // plus what the import writes before the server notices it and lets go
    // of its read transaction (within 100 ms): 3-5 MB of WAL here, even
    // with other processes syncing to the disk meanwhile.
    assert!(
        wal_size < database_size / 3,
        "the WAL grew to {wal_size} bytes beside {database_size} of runs"
    );
    let listed = first_agent_runs(serving.as_ref(), &samples, 10).await;
    assert_eq!(listed.len(), 10, "the server reads what the import wrote");
}
