//! The `task-agent` command line against the real server: its output for
//! the demo's sample runs is compared with golden files.

use task_agent_client::cli;
use task_agent_server::api::RunPath;

use crate::support::ApiServer;
use crate::support::api_server::{CLIENT_SECRET, DEMO_READER, DEMO_WRITER, WRITE_SCOPE};
use crate::support::golden::assert_golden;

/// What one command printed, and whether it succeeded.
struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn task_agent(args: &[&str]) -> Outcome {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let success = cli::run(
        std::iter::once("task-agent").chain(args.iter().copied()),
        &mut stdout,
        &mut stderr,
    )
    .await;
    Outcome {
        success,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn path_args(path: &RunPath) -> Vec<String> {
    vec![
        "--org-id".into(),
        path.org_id.to_string(),
        "--project-id".into(),
        path.project_id.to_string(),
        "--task-agent-id".into(),
        path.task_agent_id.to_string(),
        "--run-id".into(),
        path.run_id.to_string(),
    ]
}

fn args<'a>(fixed: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    fixed
        .iter()
        .copied()
        .chain(more.iter().map(String::as_str))
        .collect()
}

/// The request id of an error differs on every run.
fn without_request_id(output: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(output).unwrap();
    value["error"]["request_id"] = "<request id>".into();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

#[tokio::test]
async fn help_lists_the_commands_and_the_auth_options() {
    let help = task_agent(&["--help"]).await;
    assert!(help.success);
    assert_golden("help.txt", &help.stdout);
    let get_help = task_agent(&["run", "get", "--help"]).await;
    assert!(get_help.success);
    assert_golden("run-get-help.txt", &get_help.stdout);
}

#[tokio::test]
async fn run_get_prints_the_run_as_json() {
    let api = ApiServer::start().await;
    let token = api.reader_token();
    let path = path_args(&api.sample());
    let got = task_agent(&args(
        &["--url", &api.url, "--token", &token, "run", "get"],
        &path,
    ))
    .await;
    assert!(got.success, "{}", got.stderr);
    assert_eq!(got.stderr, "");
    assert_golden("run-get.json", &got.stdout);
}

#[tokio::test]
async fn run_get_obtains_a_token_with_client_credentials() {
    let api = ApiServer::start().await;
    api.register_client(DEMO_READER, 600, 0);
    let path = path_args(&api.sample());
    let fixed = [
        "--url",
        &api.url,
        "--issuer",
        &api.idp.issuer,
        "--client-id",
        DEMO_READER,
        "--client-secret",
        CLIENT_SECRET,
        "--scope",
        "task_agent_runs:read",
        "run",
        "get",
    ];
    let got = task_agent(&args(&fixed, &path)).await;
    assert!(got.success, "{}", got.stderr);
    assert_golden("run-get.json", &got.stdout);
    assert_eq!(
        api.idp.grants()[0].scope.as_deref(),
        Some("task_agent_runs:read")
    );
}

#[tokio::test]
async fn run_list_prints_a_page_and_its_cursor() {
    let api = ApiServer::start().await;
    let token = api.reader_token();
    let sample = api.sample();
    let (org, project, agent) = (
        sample.org_id.to_string(),
        sample.project_id.to_string(),
        sample.task_agent_id.to_string(),
    );
    let args = vec![
        "--url",
        &api.url,
        "--token",
        &token,
        "run",
        "list",
        "--org-id",
        &org,
        "--project-id",
        &project,
        "--task-agent-id",
        &agent,
        "--status",
        "failed",
        "--page-limit",
        "2",
    ];
    let listed = task_agent(&args).await;
    assert!(listed.success, "{}", listed.stderr);
    // The cursor is keyed with the database's own secret, so it differs
    // from one test database to the next: it is checked by using it.
    let page: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let cursor = page["pagination"]["next_cursor"].as_str().unwrap();
    assert_golden(
        "run-list-failed.json",
        &listed
            .stdout
            .replace(cursor, "(keyed: differs by database)"),
    );
    let next = task_agent(&[&args[..], &["--cursor", cursor]].concat()).await;
    assert!(next.success, "{}", next.stderr);
    let next: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
    let first_ids: Vec<_> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| &run["id"])
        .collect();
    let next_results = next["results"].as_array().unwrap();
    assert!(!next_results.is_empty(), "the cursor continues the list");
    assert!(
        next_results
            .iter()
            .all(|run| !first_ids.contains(&&run["id"])),
        "the next page starts after the first"
    );
}

#[tokio::test]
async fn run_put_writes_a_run_from_a_json_file() {
    let api = ApiServer::start().await;
    let token = api.token(DEMO_WRITER, &[WRITE_SCOPE]);
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/run-put-body.json"
        ),
        body.path(),
    )
    .unwrap();
    let path = RunPath {
        run_id: "0d3e0000-0000-4000-8000-0000000c1100".parse().unwrap(),
        ..api.sample()
    };
    let path = path_args(&path);
    let body_path = body.path().to_str().unwrap();
    let put = task_agent(&args(
        &[
            "--url",
            &api.url,
            "--token",
            &token,
            "run",
            "put",
            "--json-body",
            body_path,
        ],
        &path,
    ))
    .await;
    assert!(put.success, "{}", put.stderr);
    assert_golden("run-put.json", &put.stdout);

    let reader = api.reader_token();
    let got = task_agent(&args(
        &["--url", &api.url, "--token", &reader, "run", "get"],
        &path,
    ))
    .await;
    assert_eq!(got.stdout, put.stdout, "what was written reads back");
}

#[tokio::test]
async fn errors_are_printed_as_json_and_fail_the_command() {
    let api = ApiServer::start().await;
    let token = api.reader_token();
    let missing = RunPath {
        run_id: uuid::Uuid::nil(),
        ..api.sample()
    };
    let path = path_args(&missing);
    let got = task_agent(&args(
        &["--url", &api.url, "--token", &token, "run", "get"],
        &path,
    ))
    .await;
    assert!(!got.success);
    assert_eq!(got.stdout, "");
    assert_golden("run-get-not-found.json", &without_request_id(&got.stderr));

    let anonymous = task_agent(&args(&["--url", &api.url, "run", "get"], &path)).await;
    assert!(!anonymous.success);
    assert_golden(
        "run-get-unauthorized.json",
        &without_request_id(&anonymous.stderr),
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let bad = task_agent(&["run", "get", "--org-id", "not-a-uuid"]).await;
    assert!(!bad.success);
    assert!(
        bad.stderr
            .contains("invalid value 'not-a-uuid' for '--org-id"),
        "{}",
        bad.stderr
    );
    let path = path_args(&RunPath {
        org_id: uuid::Uuid::nil(),
        project_id: uuid::Uuid::nil(),
        task_agent_id: uuid::Uuid::nil(),
        run_id: uuid::Uuid::nil(),
    });
    let fixed = [
        "--issuer",
        "http://127.0.0.1:1",
        "--client-id",
        "x",
        "run",
        "get",
    ];
    let no_secret = task_agent(&args(&fixed, &path)).await;
    assert!(!no_secret.success);
    assert_eq!(
        no_secret.stderr,
        "error: --issuer needs --client-id and --client-secret\n"
    );
}
