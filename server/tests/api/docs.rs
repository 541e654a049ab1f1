//! `/docs`, `/openapi.yaml` and `/openapi.json`: served by the server, with
//! no token and no request leaving the machine, rendered in a real browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::support::{Backend, TestServer, skip};

const SPEC: &str = include_str!("../../../openapi.yaml");

/// Once, on SQLite: serving the spec touches no storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_is_served_as_checked_in_and_as_json() {
    let server = TestServer::start(Backend::Sqlite).await;
    let anonymous = reqwest::Client::new();
    let yaml = anonymous
        .get(server.url("/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(yaml.status(), 200, "no token needed");
    assert!(
        yaml.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml")
    );
    assert_eq!(yaml.text().await.unwrap(), SPEC, "byte for byte");

    let json = anonymous
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    let served: Value = json.json().await.unwrap();
    let checked_in: Value = serde_norway::from_str(SPEC).unwrap();
    assert_eq!(served, checked_in, "the same document");

    let page = anonymous.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("src=\"/docs/scalar.js\"") && html.contains("/openapi.json"),
        "{html}"
    );
    assert!(
        !html.contains("https://"),
        "the page names no remote resource: {html}"
    );
    let bundle = anonymous
        .get(server.url("/docs/scalar.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(
        bundle.bytes().await.unwrap().len() > 1_000_000,
        "the whole bundle, from the server"
    );
}

/// Debian's Chromium, if installed (`.ci/run` installs it).
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// Runs headless Chromium on `url` with `extra` arguments; the network is
/// closed to anything but loopback, and every request is logged to
/// `net_log`.
async fn chromium_run(
    binary: &Path,
    profile: &Path,
    net_log: &Path,
    url: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut command = Command::new(binary);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
        ])
        .args([
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg("--virtual-time-budget=20000")
        .args(extra)
        .arg(url)
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("Chromium finishes")
        .unwrap()
}

/// Every request the page itself made (the browser's own background
/// requests have no page initiator), from Chromium's net log.
fn page_requests(net_log: &Path, origin: &str) -> Vec<String> {
    let log: Value = serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .unwrap();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| {
            event["type"].as_u64() == Some(start_job) && event["params"]["initiator"] == origin
        })
        .map(|event| event["params"]["url"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_renders_the_reference_from_the_server_alone() {
    let Some(binary) = chromium() else {
        skip(
            "docs::a_browser_renders_the_reference_from_the_server_alone",
            "no chromium (apt-get install chromium)",
        );
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await;
    let origin = server.url.clone();
    let work = tempfile::tempdir().unwrap();
    let net_log = work.path().join("net.json");
    let expected = [
        // The three operations.
        "Get a task agent run",
        "List the runs of a task agent",
        "Create or replace a task agent run",
        // Fields of TaskAgentRun.
        "had_mcp_tool_fail",
        "model_usages",
        "total_charged_credits",
        // The security scheme, and a place to enter the token.
        "bearerAuth",
        "Bearer",
    ];
    // Scalar renders the operations' details in chunks after the page has
    // loaded, and on a busy machine the dump sometimes comes before the
    // last chunk (3 runs in 21 here): the page gets three chances to show
    // everything, and the last dump must.
    let mut attempts = 0;
    let (output, dom) = loop {
        attempts += 1;
        let output = chromium_run(
            &binary,
            &work.path().join("profile"),
            &net_log,
            &server.url("/docs"),
            &["--dump-dom"],
        )
        .await;
        let dom = String::from_utf8_lossy(&output.stdout).into_owned();
        if attempts == 3 || expected.iter().all(|text| dom.contains(text)) {
            break (output, dom);
        }
    };
    for expected in expected {
        assert!(
            dom.contains(expected),
            "{expected:?} is not rendered; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let requests = page_requests(&net_log, &origin);
    assert!(
        requests.iter().any(|url| url.ends_with("/docs/scalar.js")),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|url| url.ends_with("/openapi.json")),
        "{requests:?}"
    );
    let external: Vec<_> = requests
        .iter()
        .filter(|url| !url.starts_with(&origin))
        .collect();
    assert!(
        external.is_empty(),
        "the page made requests off this server: {external:?}"
    );

    // A screenshot for the README (copied to docs/ by hand when it changes).
    let screenshot = concat!(env!("CARGO_TARGET_TMPDIR"), "/api-reference.png");
    let shot = chromium_run(
        &binary,
        &work.path().join("profile-2"),
        &work.path().join("net-2.json"),
        &server.url("/docs"),
        &[
            "--window-size=1440,1000",
            "--hide-scrollbars",
            &format!("--screenshot={screenshot}"),
        ],
    )
    .await;
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    assert!(
        std::fs::metadata(screenshot).unwrap().len() > 10_000,
        "a real picture"
    );
}
