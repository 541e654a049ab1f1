//! `cargo xbench soak`: a bounded mixed load against a release build, to
//! watch for errors and memory growth over minutes (not a test: it reports,
//! and fails only on unexpected answers).
//!
//! The server runs on SQLite with the development issuer. Workers mix reads
//! of existing runs, lists with filters and cursors, writes (new runs and
//! updates), and bad requests (forged and missing tokens, non-members,
//! malformed and invalid bodies, unknown runs, corrupt cursors). Each kind of
//! request has the statuses it may get; anything else is unexpected.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use task_agent_server::samples::SampleRuns;

use crate::bench::memory_during;
use crate::release_server::{self, ServerBinary};

/// Requests and their outcomes, by kind.
#[derive(Default)]
struct Tally {
    /// `(kind, status) -> count` for answers the kind may get.
    expected: BTreeMap<(String, u16), u64>,
    /// `(kind, status or error) -> count` for anything else.
    unexpected: BTreeMap<(String, String), u64>,
    latencies_ms: Vec<f64>,
}

struct Run {
    url: String,
    reader: String,
    writer: String,
    stranger: String,
    samples: SampleRuns,
    seeded: u64,
}

/// Runs the soak for `duration` with `workers` concurrent clients, after
/// writing `seed_runs` runs (at least 1: the reads pick among them).
pub fn soak(duration: Duration, workers: usize, seed_runs: u64) -> Result<bool> {
    let binary =
        ServerBinary(release_server::build(&["task-agent-server"])?.join("task-agent-server"));
    let data = tempfile_dir()?;
    let database = format!("sqlite://{}/runs.db", data.display());
    let samples = SampleRuns::new(7, 4);
    let org = samples.org_id.to_string();
    for (subject, role) in [("soak-reader", "reader"), ("soak-writer", "writer")] {
        binary.add_member(&database, &org, subject, role)?;
    }
    let (reader, writer, stranger) = (
        binary.token(&data, "soak-reader", &[])?,
        binary.token(&data, "soak-writer", &["task_agent_runs:write"])?,
        binary.token(&data, "stranger", &[])?,
    );
    let server = binary.serve(&database, &data, "warn", &data.join("server.log"))?;
    let url = server.base_url().to_owned();
    let runtime = release_server::client_runtime()?;
    let run = Arc::new(Run {
        url,
        reader,
        writer,
        stranger,
        samples,
        seeded: seed_runs,
    });
    eprintln!("seeding {seed_runs} runs ...");
    runtime.block_on(seed(&run))?;
    // RssAnon beside VmRSS: the memory-mapped database's pages count in
    // VmRSS and grow with the file, so growth of the server's own memory
    // shows in RssAnon only.
    let [rss_start, anon_start] = server.memory_fields_kib(["VmRSS:", "RssAnon:"])?;
    eprintln!(
        "soaking for {} s with {workers} workers ...",
        duration.as_secs()
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    // A client (and so a connection pool) of its own for each worker.
    let clients = (0..workers)
        .map(|_| http_client())
        .collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    let ((), memory) = memory_during(&server, || {
        runtime.block_on(async {
            let tasks: Vec<_> = clients
                .into_iter()
                .enumerate()
                .map(|(worker, http)| {
                    tokio::spawn(work(
                        run.clone(),
                        http,
                        tally.clone(),
                        worker as u64,
                        started + duration,
                    ))
                })
                .collect();
            for task in tasks {
                task.await?;
            }
            anyhow::Ok(())
        })
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let [rss_end, anon_end] = server.memory_fields_kib(["VmRSS:", "RssAnon:"])?;
    // Not reset: the peak since the server started, seeding included.
    let rss_peak = memory.hwm_kib;
    let alive = rss_end > 0;
    drop(server);
    let mut tally = Arc::try_unwrap(tally)
        .ok()
        .expect("workers are done")
        .into_inner()
        .expect("tally lock");
    tally.latencies_ms.sort_by(f64::total_cmp);
    let total: u64 = tally.expected.values().sum::<u64>() + tally.unexpected.values().sum::<u64>();
    let percentile = |p: f64| {
        tally
            .latencies_ms
            .get(((tally.latencies_ms.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "soak: {total} requests in {elapsed:.0} s ({:.0}/s), {workers} workers",
        total as f64 / elapsed
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(0.5),
        percentile(0.99),
        percentile(1.0)
    );
    println!(
        "server RSS: {} MiB after seeding, {} MiB at the end, peak {} MiB",
        rss_start / 1024,
        rss_end / 1024,
        rss_peak / 1024
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "server anonymous memory (RssAnon): {:.1} MiB after seeding, {:.1} MiB at the end \
         ({:+.1} MiB), sampled peak {:.1} MiB; file-backed (RssFile) sampled peak {:.1} MiB",
        mib(anon_start),
        mib(anon_end),
        mib(anon_end) - mib(anon_start),
        mib(memory.anon_kib),
        mib(memory.file_kib)
    );
    println!("expected answers:");
    for ((kind, status), count) in &tally.expected {
        println!("  {kind:<28} {status}  {count}");
    }
    println!(
        "unexpected answers: {}",
        tally.unexpected.values().sum::<u64>()
    );
    for ((kind, what), count) in &tally.unexpected {
        println!("  {kind:<28} {what}  {count}");
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(alive && tally.unexpected.is_empty())
}

/// A client whose requests give up after a while: a request the server
/// never answers counts as an unexpected timeout instead of stalling the
/// soak past its duration.
fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let path = std::env::temp_dir().join(format!("task-agent-soak-{}", std::process::id()));
    std::fs::create_dir_all(&path)?;
    Ok(path)
}

fn run_url(run: &Run, index: u64) -> (String, Value) {
    let (path, write) = run.samples.run(index);
    let url = format!("{}{}", run.url, path.path());
    (url, serde_json::to_value(write).expect("a run serializes"))
}

async fn seed(run: &Run) -> Result<()> {
    let http = http_client()?;
    for index in 0..run.seeded {
        let (url, body) = run_url(run, index);
        let response = http
            .put(&url)
            .bearer_auth(&run.writer)
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("seeding run {index}: {}", response.status());
        }
    }
    Ok(())
}

/// One worker: requests until `until`, chosen by a deterministic sequence.
async fn work(
    run: Arc<Run>,
    http: reqwest::Client,
    tally: Arc<Mutex<Tally>>,
    worker: u64,
    until: Instant,
) {
    let mut next_new = run.seeded + 1_000_000 * (worker + 1);
    let mut step: u64 = worker.wrapping_mul(0x9e37_79b9);
    while Instant::now() < until {
        step = step
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let pick = (step >> 33) % 100;
        let existing = (step >> 13) % run.seeded;
        let (url, body) = run_url(&run, existing);
        let runs_url = url.rsplit_once('/').expect("a run URL").0;
        let list = format!("{runs_url}?page_limit=20");
        let (kind, request, allowed): (&str, reqwest::RequestBuilder, &[u16]) = match pick {
            0..=54 => ("get", http.get(&url).bearer_auth(&run.reader), &[200]),
            55..=69 => ("list", http.get(&list).bearer_auth(&run.reader), &[200]),
            70..=74 => (
                "list failed runs",
                http.get(format!("{list}&status=failed&min_duration_ms=1000"))
                    .bearer_auth(&run.reader),
                &[200],
            ),
            75..=84 => {
                next_new += 1;
                let (url, body) = run_url(&run, next_new);
                (
                    "put new run",
                    http.put(url).bearer_auth(&run.writer).json(&body),
                    &[201],
                )
            }
            85..=87 => (
                "put again (idempotent)",
                http.put(&url).bearer_auth(&run.writer).json(&body),
                &[200],
            ),
            88 => (
                "forged token",
                http.get(&url).bearer_auth(format!("{}x", run.reader)),
                &[401],
            ),
            89 => ("no token", http.get(&url), &[401]),
            90 => (
                "non-member",
                http.get(&url).bearer_auth(&run.stranger),
                &[403],
            ),
            91 => (
                "reader writes",
                http.put(&url).bearer_auth(&run.reader).json(&body),
                &[403],
            ),
            92 => (
                "malformed body",
                http.put(&url)
                    .bearer_auth(&run.writer)
                    .header("content-type", "application/json")
                    .body("{\"session_id\":"),
                &[400],
            ),
            93 => {
                let mut broken = body.clone();
                broken["total_tokens"] = json!(-1);
                (
                    "rule-breaking body",
                    http.put(&url).bearer_auth(&run.writer).json(&broken),
                    &[422],
                )
            }
            94 => (
                "unknown run",
                // Written runs count up from index 0; these, from the top,
                // are never written.
                http.get(run_url(&run, u64::MAX - existing).0)
                    .bearer_auth(&run.reader),
                &[404],
            ),
            95 => (
                "bad uuid in path",
                http.get(format!(
                    "{}/api/v1/org/x/project/y/task-agent/z/run/w",
                    run.url
                ))
                .bearer_auth(&run.reader),
                &[400],
            ),
            96 => (
                "corrupt cursor",
                http.get(format!("{list}&cursor=AAAA"))
                    .bearer_auth(&run.reader),
                &[422],
            ),
            97 => (
                "page_limit too big",
                http.get(format!("{runs_url}?page_limit=1000"))
                    .bearer_auth(&run.reader),
                &[422],
            ),
            _ => (
                "stale If-Match",
                http.put(&url)
                    .bearer_auth(&run.writer)
                    .header("if-match", "\"stale\"")
                    .json(&body),
                &[412],
            ),
        };
        let sent = Instant::now();
        let outcome = request.send().await;
        let latency = sent.elapsed().as_secs_f64() * 1e3;
        let mut tally = tally.lock().expect("tally lock");
        tally.latencies_ms.push(latency);
        match outcome {
            Ok(response) if allowed.contains(&response.status().as_u16()) => {
                *tally
                    .expected
                    .entry((kind.to_owned(), response.status().as_u16()))
                    .or_default() += 1;
            }
            Ok(response) => {
                *tally
                    .unexpected
                    .entry((kind.to_owned(), response.status().to_string()))
                    .or_default() += 1;
            }
            Err(error) => {
                let what = if error.is_timeout() {
                    "timeout"
                } else if error.is_connect() {
                    "connect"
                } else {
                    "transport"
                };
                *tally
                    .unexpected
                    .entry((kind.to_owned(), what.to_owned()))
                    .or_default() += 1;
            }
        }
    }
}
