//! The `task-agent-server` binary as a newcomer and an operator use it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use task_agent_client::Client;
use task_agent_server::auth::WRITE_SCOPE;
use task_agent_server::database_url::DatabaseUrl;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, TestDatabase, TestIdp, WRITER, at, http_client,
    minimal_run, put_with,
};

/// Runs the binary to completion; its stdout, or a panic with its stderr.
async fn run_binary(args: &[&str]) -> String {
    let output = Command::new(BINARY).args(args).output().await.unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Reads the demo's stdout up to its last line.
async fn demo_output(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            output.push_str(&line);
            output.push('\n');
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the demo prints its instructions");
    // Keep reading: a closed pipe would make the demo's next print fail.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    output
}

/// The line after the one that starts with `heading`, trimmed.
fn line_after<'a>(output: &'a str, heading: &str) -> &'a str {
    let mut lines = output.lines();
    lines
        .find(|line| line.starts_with(heading))
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{output}"));
    lines.next().unwrap().trim()
}

/// The last single-quoted or bare URL of a printed `curl` command.
fn curl_url(command: &str) -> String {
    command
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_matches('\'')
        .to_owned()
}

#[tokio::test]
async fn the_demo_prints_commands_that_work() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let mut demo = Command::new(BINARY)
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir", data_dir])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.path().join("demo.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = demo_output(&mut demo).await;

    let token = line_after(&output, "A reader token")
        .strip_prefix("export TOKEN=")
        .unwrap()
        .to_owned();
    let reader = http_client(Some(&token));
    let run_url = curl_url(line_after(&output, "Get one run:"));
    let run: Value = reader
        .get(&run_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        run_url.rsplit('/').next().unwrap(),
        run["id"].as_str().unwrap(),
        "{run}"
    );
    let list_url = curl_url(line_after(&output, "List the failed runs"));
    let page: Value = reader
        .get(&list_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let failed = page["results"].as_array().unwrap();
    assert!(
        !failed.is_empty() && failed.iter().all(|run| run["status"] == "failed"),
        "{page}"
    );
    assert_eq!(
        reqwest::get(&run_url).await.unwrap().status(),
        401,
        "without the token"
    );

    // The printed writer command mints a token that may write.
    let mint = line_after(&output, "To write runs");
    let arguments: Vec<&str> = mint
        .split_once(" -- ")
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let writer_token = run_binary(&arguments).await.trim().to_owned();
    let new_run =
        run_url.rsplit_once('/').unwrap().0.to_owned() + "/" + &uuid::Uuid::new_v4().to_string();
    let created = http_client(Some(&writer_token))
        .put(&new_run)
        .json(&minimal_run(at(0)))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let refused = reader
        .put(&new_run)
        .json(&minimal_run(at(0)))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "the reader token may not write");

    // SIGTERM stops the demo cleanly.
    let pid = demo.id().unwrap().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), demo.wait())
        .await
        .unwrap()
        .unwrap();
    let log = std::fs::read_to_string(data.path().join("demo.log")).unwrap();
    assert!(status.success(), "{status:?}\n{log}");
}

async fn members_are_added_listed_changed_and_removed(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let database = storage.url_string();
    let org = uuid::Uuid::new_v4().to_string();
    let members = |action: &'static str, rest: Vec<&str>| {
        let mut args = vec!["members", action, "--database", &database];
        args.extend(rest);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let call = |args: Vec<String>| async move {
        run_binary(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
    };
    call(members(
        "add",
        vec!["--org", &org, "--subject", "alice", "--role", "reader"],
    ))
    .await;
    call(members(
        "add",
        vec!["--org", &org, "--subject", "bob", "--role", "writer"],
    ))
    .await;
    call(members(
        "add",
        vec!["--org", &org, "--subject", "alice", "--role", "writer"],
    ))
    .await;
    let listed = call(members("list", vec!["--org", &org])).await;
    assert_eq!(
        listed,
        format!("{org}\talice\twriter\n{org}\tbob\twriter\n")
    );
    call(members("remove", vec!["--org", &org, "--subject", "bob"])).await;
    assert_eq!(
        call(members("list", vec![])).await,
        format!("{org}\talice\twriter\n")
    );

    let output = Command::new(BINARY)
        .args(members("remove", vec!["--org", &org, "--subject", "bob"]))
        .output()
        .await
        .unwrap();
    assert!(!output.status.success(), "removing a non-member fails");
    let output = Command::new(BINARY)
        .args(members(
            "add",
            vec!["--org", &org, "--subject", "carol", "--role", "owner"],
        ))
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("reader or writer"));
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_token_issuer() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &format!("sqlite://{}/db", data.path().display()),
        ])
        .env_remove("TASK_AGENT_JWT_ISSUER")
        .env_remove("TASK_AGENT_DEV_ISSUER")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no token issuer configured"));
}

crate::backend_tests!(members_are_added_listed_changed_and_removed);

/// `--sqlite-mmap-mib`: by default SQLite reads the database through a
/// memory map (the file shows in the process's mappings once a run has
/// been read), and 0 turns the map off; either way the run reads back the
/// same.
#[tokio::test]
async fn sqlite_reads_go_through_a_memory_map_unless_turned_off() {
    for (mmap_mib, mapped) in [(None, true), (Some("0"), false)] {
        let storage = TestDatabase::create(Backend::Sqlite).await;
        let DatabaseUrl::Sqlite(file) = &storage.url else {
            unreachable!("a SQLite database")
        };
        let agent = {
            let database = storage.url.open().await.unwrap();
            Agent::with_members(database.as_ref()).await
        };
        let file = std::fs::canonicalize(file).unwrap();
        let idp = TestIdp::start().await;
        let flags = match mmap_mib {
            Some(mib) => vec!["--sqlite-mmap-mib", mib],
            None => vec![],
        };
        let mut server =
            ServerProcess::start_with_flags(BINARY, &storage.url_string(), &idp, &flags).await;
        let client =
            Client::with_bearer_token(server.base_url(), &idp.token(WRITER, &[WRITE_SCOPE]))
                .unwrap();
        let run_id = Uuid::new_v4();
        let body = minimal_run(at(0));
        put_with(&client, &agent, run_id, &body, None)
            .await
            .unwrap();
        let read = agent
            .get(&client)
            .run_id(run_id)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.id, run_id, "{mmap_mib:?}");

        let maps = std::fs::read_to_string(format!("/proc/{}/maps", server.pid())).unwrap();
        let file = file.display().to_string();
        assert_eq!(
            maps.lines().any(|line| line.ends_with(&file)),
            mapped,
            "--sqlite-mmap-mib {mmap_mib:?}: {file} in\n{maps}"
        );
        assert!(server.terminate().await.unwrap().success());
    }
}
