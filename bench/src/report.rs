//! The bench's results: medians over the rounds, the ratios the targets are
//! stated in, and whether each target is met; printed as a Markdown table
//! and written to `results.md` and `results.json`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::bench::{BenchOptions, LIST_CONNECTIONS, READ_CONNECTIONS, WRITE_CONNECTIONS};
use crate::peer::PeerComparison;
use crate::wrk::Measured;

/// GET run must reach this share of the baseline's requests/s.
const GET_SHARE_OF_BASELINE: f64 = 0.5;
/// GET run's p99 must stay under this.
const GET_P99_MS: f64 = 5.0;
/// The backend of the GET run the targets judge.
const GET_TARGET_BACKEND: &str = "SQLite";
/// The deep page's latency may be at most this multiple of the first's.
const DEEP_OVER_FIRST: f64 = 1.5;
/// The server's peak RSS must stay under this many bytes (100 MB).
const RSS_BYTES: f64 = 100e6;
const MIB: f64 = 1024.0 * 1024.0;

/// A server that answers the GET requests from memory, without the work.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Bare hyper: the machine's HTTP limit.
    Hyper,
    /// Dropshot, configured as the server is: the framework's limit.
    Dropshot,
}

impl Baseline {
    /// Its binary (in `bench/baseline`).
    pub fn binary(self) -> &'static str {
        match self {
            Baseline::Hyper => "hyper-baseline",
            Baseline::Dropshot => "dropshot-baseline",
        }
    }
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Get,
    GetLogged,
    Baseline(Baseline),
    Put,
    ListFirst,
    ListDeep,
}

/// One scenario's rounds.
#[derive(Debug, Serialize)]
pub struct Scenario {
    name: String,
    kind: Kind,
    backend: Option<String>,
    rounds: Vec<Measured>,
    /// Peak RSS of the server over the rounds (none for the baseline).
    peak_rss_kib: Option<u64>,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl Scenario {
    fn new(
        name: String,
        kind: Kind,
        backend: Option<&str>,
        rounds: Vec<Measured>,
        peak: Option<u64>,
    ) -> Scenario {
        let of = |field: fn(&Measured) -> f64| median(rounds.iter().map(field).collect());
        Scenario {
            requests_per_s: of(|m| m.requests_per_s),
            p50_ms: of(|m| m.latency_ms.p50),
            p99_ms: of(|m| m.latency_ms.p99),
            errors: rounds.iter().map(|m| m.errors.total()).sum(),
            name,
            kind,
            backend: backend.map(str::to_owned),
            rounds,
            peak_rss_kib: peak,
        }
    }

    pub fn get(backend: &str, rounds: Vec<Measured>, peak: u64) -> Scenario {
        let name = format!("GET run, {backend}, {READ_CONNECTIONS} connections");
        Scenario::new(name, Kind::Get, Some(backend), rounds, Some(peak))
    }

    pub fn get_logged(backend: &str, rounds: Vec<Measured>, peak: u64) -> Scenario {
        let name = format!("GET run, {backend}, {READ_CONNECTIONS} connections, access log on");
        Scenario::new(name, Kind::GetLogged, Some(backend), rounds, Some(peak))
    }

    pub fn baseline(baseline: Baseline, rounds: Vec<Measured>) -> Scenario {
        let name = match baseline {
            Baseline::Hyper => "GET, baseline: bare hyper, same bytes from memory",
            Baseline::Dropshot => "GET, baseline: dropshot, same bytes from memory",
        };
        Scenario::new(
            name.to_owned(),
            Kind::Baseline(baseline),
            None,
            rounds,
            None,
        )
    }

    pub fn put(backend: &str, rounds: Vec<Measured>, peak: u64) -> Scenario {
        let name = format!("PUT new run, {backend}, {WRITE_CONNECTIONS} connections");
        Scenario::new(name, Kind::Put, Some(backend), rounds, Some(peak))
    }

    pub fn list_first(runs: u64, rounds: Vec<Measured>, peak: u64) -> Scenario {
        let name =
            format!("list, first page of {runs} runs, SQLite, {LIST_CONNECTIONS} connections");
        Scenario::new(name, Kind::ListFirst, Some("SQLite"), rounds, Some(peak))
    }

    pub fn list_deep(depth: u64, rounds: Vec<Measured>, peak: u64) -> Scenario {
        let name = format!("list, page {depth} runs deep, SQLite, {LIST_CONNECTIONS} connections");
        Scenario::new(name, Kind::ListDeep, Some("SQLite"), rounds, Some(peak))
    }

    fn rss_mib(&self) -> Option<f64> {
        self.peak_rss_kib.map(|kib| kib as f64 * 1024.0 / MIB)
    }
}

/// A target and whether it was met.
#[derive(Debug, Serialize)]
struct Target {
    what: String,
    measured: String,
    met: bool,
}

/// Everything measured in one run.
#[derive(Debug, Serialize)]
pub struct Report {
    machine: String,
    command: String,
    scenarios: Vec<Scenario>,
    peer: Option<PeerComparison>,
    /// Why the peer could not be measured.
    peer_failure: Option<String>,
    targets: Vec<Target>,
}

impl Report {
    pub fn new(options: &BenchOptions) -> Report {
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|line| line.starts_with("model name"))?;
                Some(line.split_once(':')?.1.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let kib: f64 = info
                    .lines()
                    .next()?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some(kib / 1024.0 / 1024.0)
            })
            .unwrap_or(0.0);
        Report {
            machine: format!("{cores} cores ({cpu}), {memory_gib:.0} GiB, Linux"),
            // Every option that shapes the figures, so the line reproduces them.
            command: format!(
                "cargo xbench run --duration-secs {} --warmup-secs {} --rounds {} --runs {} \
                 --list-runs {} --list-depth {}{}{}",
                options.duration_secs,
                options.warmup_secs,
                options.rounds,
                options.runs,
                options.list_runs,
                options.list_depth,
                if options.postgres == "none" {
                    " --postgres none"
                } else {
                    ""
                },
                if options.peer_kit == "none" {
                    " --peer-kit none"
                } else {
                    ""
                },
            ),
            scenarios: Vec::new(),
            peer: None,
            peer_failure: None,
            targets: Vec::new(),
        }
    }

    pub fn add_all(&mut self, scenarios: Vec<Scenario>) {
        self.scenarios.extend(scenarios);
    }

    pub fn set_peer(&mut self, peer: PeerComparison) {
        self.peer = Some(peer);
    }

    pub fn set_peer_failure(&mut self, failure: String) {
        self.peer_failure = Some(failure);
    }

    fn find(&self, kind: Kind, backend: Option<&str>) -> Option<&Scenario> {
        self.scenarios
            .iter()
            .find(|s| s.kind == kind && (backend.is_none() || s.backend.as_deref() == backend))
    }

    fn judge(&mut self) {
        let mut targets = Vec::new();
        // The GET run scenario is the default deployment, SQLite:
        // its share and its p99 are the targets. PostgreSQL's GET is there
        // for comparison (the issue asks for PUT on both backends only).
        if let Some(get) = self.find(Kind::Get, Some(GET_TARGET_BACKEND)) {
            if let Some(baseline) = self.find(Kind::Baseline(Baseline::Hyper), None) {
                let share = get.requests_per_s / baseline.requests_per_s;
                targets.push(Target {
                    what: format!(
                        "GET run ≥ {:.0}% of the baseline's requests/s",
                        GET_SHARE_OF_BASELINE * 100.0
                    ),
                    measured: format!("{:.0}%", share * 100.0),
                    met: share >= GET_SHARE_OF_BASELINE,
                });
            }
            targets.push(Target {
                what: format!("GET run p99 < {GET_P99_MS} ms ({GET_TARGET_BACKEND})"),
                measured: format!("{:.2} ms", get.p99_ms),
                met: get.p99_ms < GET_P99_MS,
            });
        }
        if let (Some(first), Some(deep)) = (
            self.find(Kind::ListFirst, None),
            self.find(Kind::ListDeep, None),
        ) {
            let ratio = deep.p50_ms / first.p50_ms;
            targets.push(Target {
                what: format!("deep page p50 ≤ {DEEP_OVER_FIRST}× the first page's"),
                measured: format!("{ratio:.2}×"),
                met: ratio <= DEEP_OVER_FIRST,
            });
        }
        let peak = self
            .scenarios
            .iter()
            .filter_map(Scenario::rss_mib)
            .fold(0.0, f64::max);
        targets.push(Target {
            what: format!(
                "server peak RSS < {:.0} MB ({:.1} MiB) in every scenario",
                RSS_BYTES / 1e6,
                RSS_BYTES / MIB
            ),
            measured: format!("{peak:.0} MiB at most"),
            met: peak * MIB < RSS_BYTES,
        });
        let errors: u64 = self.scenarios.iter().map(|s| s.errors).sum();
        targets.push(Target {
            what: "no errors or non-2xx answers under load".to_owned(),
            measured: errors.to_string(),
            met: errors == 0,
        });
        self.targets = targets;
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Machine: {}  ", self.machine);
        let _ = writeln!(out, "Command: `{}`\n", self.command);
        let _ = writeln!(
            out,
            "| scenario | requests/s | p50 ms | p99 ms | server peak RSS | errors |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for s in &self.scenarios {
            let rss = s
                .rss_mib()
                .map_or("–".to_owned(), |mb| format!("{mb:.0} MiB"));
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.2} | {:.2} | {rss} | {} |",
                s.name, s.requests_per_s, s.p50_ms, s.p99_ms, s.errors
            );
        }
        let ratio = |a: Option<&Scenario>, b: Option<&Scenario>| {
            a.zip(b)
                .map(|(a, b)| format!("{:.0}%", a.requests_per_s / b.requests_per_s * 100.0))
        };
        let get = self.find(Kind::Get, Some("SQLite"));
        let hyper = self.find(Kind::Baseline(Baseline::Hyper), None);
        let dropshot = self.find(Kind::Baseline(Baseline::Dropshot), None);
        let logged = self.find(Kind::GetLogged, None);
        let shares = [
            ("GET run (SQLite) / bare hyper", ratio(get, hyper)),
            ("GET run (SQLite) / dropshot", ratio(get, dropshot)),
            ("dropshot / bare hyper", ratio(dropshot, hyper)),
            ("GET run with / without the access log", ratio(logged, get)),
        ];
        if shares.iter().any(|(_, share)| share.is_some()) {
            let _ = writeln!(out, "\n| requests/s, side by side | share |");
            let _ = writeln!(out, "|---|---:|");
            for (what, share) in shares {
                if let Some(share) = share {
                    let _ = writeln!(out, "| {what} | {share} |");
                }
            }
        }
        if let Some(peer) = &self.peer {
            let _ = writeln!(
                out,
                "\nBeside the FastAPI peer (`../shared/bench/compare.sh`, GET run, 64 connections, SQLite):\n"
            );
            let _ = writeln!(out, "| server | requests/s | p50 ms | p99 ms |");
            let _ = writeln!(out, "|---|---:|---:|---:|");
            for side in [&peer.a, &peer.b] {
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {:.2} | {:.2} |",
                    side.label, side.requests_per_s, side.p50_ms, side.p99_ms
                );
            }
            let _ = writeln!(
                out,
                "| ratio (this server / FastAPI) | {:.2}× | {:.2}× | {:.2}× |",
                peer.b.requests_per_s / peer.a.requests_per_s,
                peer.b.p50_ms / peer.a.p50_ms,
                peer.b.p99_ms / peer.a.p99_ms
            );
        }
        if let Some(failure) = &self.peer_failure {
            let _ = writeln!(out, "\nThe FastAPI peer could not be measured: {failure}");
        }
        let _ = writeln!(out, "\n| target | measured | met |");
        let _ = writeln!(out, "|---|---:|:-:|");
        for target in &self.targets {
            let met = if target.met { "yes" } else { "**no**" };
            let _ = writeln!(out, "| {} | {} | {met} |", target.what, target.measured);
        }
        out
    }

    /// Judges the targets, prints the table and writes the files; whether
    /// every target was met.
    pub fn write(mut self, out: &Path) -> Result<bool> {
        self.judge();
        let markdown = self.markdown();
        print!("{markdown}");
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("results.md"), &markdown)?;
        std::fs::write(
            out.join("results.json"),
            serde_json::to_string_pretty(&self)?,
        )?;
        eprintln!("wrote {}/results.md and results.json", out.display());
        Ok(self.targets.iter().all(|target| target.met))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrk::{Errors, Latency};

    fn round(requests_per_s: f64, p50: f64, p99: f64, status_errors: u64) -> Measured {
        Measured {
            requests: requests_per_s as u64,
            requests_per_s,
            latency_ms: Latency {
                p50,
                p90: p99,
                p99,
                max: p99,
            },
            errors: Errors {
                connect: 0,
                read: 0,
                write: 0,
                timeout: 0,
                status: status_errors,
            },
        }
    }

    fn options() -> BenchOptions {
        BenchOptions {
            duration_secs: 1,
            warmup_secs: 0,
            rounds: 3,
            runs: 10,
            list_runs: 10,
            list_depth: 9,
            postgres: "none".to_owned(),
            peer_kit: "none".to_owned(),
            out: "unused".into(),
            keep: false,
        }
    }

    /// A report of one GET (three rounds), the hyper baseline, both list
    /// pages and a PUT, judged.
    fn judged(get_rounds: [f64; 3], deep_p50: f64, put_peak_kib: u64, errors: u64) -> Report {
        let mut report = Report::new(&options());
        let get = get_rounds.map(|rps| round(rps, 1.0, 4.0, 0)).to_vec();
        report.add_all(vec![
            Scenario::get("SQLite", get, 40 * 1024),
            Scenario::baseline(Baseline::Hyper, vec![round(100_000.0, 0.5, 3.0, 0)]),
            Scenario::put(
                "SQLite",
                vec![round(4_000.0, 3.0, 9.0, errors)],
                put_peak_kib,
            ),
            Scenario::list_first(10, vec![round(9_000.0, 0.4, 1.0, 0)], 30 * 1024),
            Scenario::list_deep(9, vec![round(8_000.0, deep_p50, 1.0, 0)], 30 * 1024),
        ]);
        report.judge();
        report
    }

    fn met(report: &Report, what: &str) -> bool {
        report
            .targets
            .iter()
            .find(|target| target.what.contains(what))
            .unwrap_or_else(|| panic!("no target {what:?} in {:?}", report.targets))
            .met
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn get_share_is_the_median_round_over_the_baseline() {
        // Median 49,000 of 100,000: one fast round does not carry it.
        let report = judged([49_000.0, 90_000.0, 10_000.0], 0.5, 50 * 1024, 0);
        assert!(!met(&report, "of the baseline"));
        let report = judged([50_000.0, 90_000.0, 10_000.0], 0.5, 50 * 1024, 0);
        assert!(met(&report, "of the baseline"));
        assert!(met(&report, "p99"));
    }

    #[test]
    fn get_targets_judge_the_sqlite_run_and_not_postgresql() {
        let mut report = judged([60_000.0; 3], 0.5, 50 * 1024, 0);
        report.add_all(vec![Scenario::get(
            "PostgreSQL",
            vec![round(20_000.0, 3.0, 9.0, 0)],
            30 * 1024,
        )]);
        report.judge();
        assert!(met(&report, "p99 < 5 ms (SQLite)"));
        assert!(met(&report, "of the baseline"));
        assert!(
            !report.targets.iter().any(|t| t.what.contains("PostgreSQL")),
            "{:?}",
            report.targets
        );
    }

    #[test]
    fn get_p99_of_5_ms_misses_the_target() {
        let mut report = Report::new(&options());
        report.add_all(vec![Scenario::get(
            "SQLite",
            vec![round(1.0, 1.0, 5.0, 0)],
            0,
        )]);
        report.judge();
        assert!(!met(&report, "p99"));
    }

    #[test]
    fn deep_page_ratio_is_judged_on_the_p50() {
        assert!(met(&judged([1.0; 3], 0.6, 0, 0), "deep page"));
        assert!(!met(&judged([1.0; 3], 0.61, 0, 0), "deep page"));
    }

    #[test]
    fn rss_target_is_100_megabytes_not_mebibytes() {
        // 97,000 KiB is 99.3 MB; 98,000 KiB is 100.4 MB.
        assert!(met(&judged([1.0; 3], 0.4, 97_000, 0), "RSS"));
        assert!(!met(&judged([1.0; 3], 0.4, 98_000, 0), "RSS"));
    }

    #[test]
    fn any_error_in_any_round_misses_the_target() {
        assert!(met(&judged([1.0; 3], 0.4, 0, 0), "no errors"));
        assert!(!met(&judged([1.0; 3], 0.4, 0, 1), "no errors"));
    }
}
