//! The bench's results: medians over the rounds, the ratios the targets are
//! stated in, and whether each target is met; printed as a Markdown table
//! and written to `results.md` and `results.json`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::bench::{
    BenchOptions, LIST_CONNECTIONS, MemoryPeak, READ_CONNECTIONS, WRITE_CONNECTIONS,
};
use crate::peer::PeerComparison;
use crate::wrk::Measured;

/// GET run must reach this share of bare hyper's requests/s.
const GET_SHARE_OF_HYPER: f64 = 0.5;
/// GET run must reach this share of dropshot's requests/s: what the
/// server adds to the framework it runs on.
const GET_SHARE_OF_DROPSHOT: f64 = 0.75;
/// GET run's p99 must stay under this.
const GET_P99_MS: f64 = 4.0;
/// GET run on PostgreSQL must reach this share of GET run on SQLite.
const POSTGRES_GET_SHARE_OF_SQLITE: f64 = 0.6;
/// The backend of the GET run the targets judge.
const GET_TARGET_BACKEND: &str = "SQLite";
/// The deep page's latency may be at most this multiple of the first's.
const DEEP_OVER_FIRST: f64 = 1.5;
const MIB: f64 = 1024.0 * 1024.0;
/// The server's anonymous memory (`RssAnon`) must stay under this many
/// bytes (100 MiB). Not RSS: the memory-mapped SQLite file's pages are
/// resident too, but they are page cache the kernel can reclaim.
const ANON_LIMIT_BYTES: f64 = 100.0 * MIB;

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
    /// The server's memory peaks over the rounds (none for the baselines).
    server_memory: Option<MemoryPeak>,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// KiB as MiB with one decimal, rounded down: so that a figure under the
/// limit never reads as the limit itself (102,399 KiB is "99.9 MiB", not
/// "100.0 MiB").
fn mib(kib: u64) -> String {
    format!("{:.1} MiB", (kib as f64 / 1024.0 * 10.0).floor() / 10.0)
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
        memory: Option<MemoryPeak>,
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
            server_memory: memory,
        }
    }

    pub fn get(backend: &str, rounds: Vec<Measured>, memory: MemoryPeak) -> Scenario {
        let name = format!("GET run, {backend}, {READ_CONNECTIONS} connections");
        Scenario::new(name, Kind::Get, Some(backend), rounds, Some(memory))
    }

    pub fn get_logged(backend: &str, rounds: Vec<Measured>, memory: MemoryPeak) -> Scenario {
        let name = format!("GET run, {backend}, {READ_CONNECTIONS} connections, access log on");
        Scenario::new(name, Kind::GetLogged, Some(backend), rounds, Some(memory))
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

    pub fn put(backend: &str, rounds: Vec<Measured>, memory: MemoryPeak) -> Scenario {
        let name = format!("PUT new run, {backend}, {WRITE_CONNECTIONS} connections");
        Scenario::new(name, Kind::Put, Some(backend), rounds, Some(memory))
    }

    pub fn list_first(runs: u64, rounds: Vec<Measured>, memory: MemoryPeak) -> Scenario {
        let name =
            format!("list, first page of {runs} runs, SQLite, {LIST_CONNECTIONS} connections");
        Scenario::new(name, Kind::ListFirst, Some("SQLite"), rounds, Some(memory))
    }

    pub fn list_deep(depth: u64, rounds: Vec<Measured>, memory: MemoryPeak) -> Scenario {
        let name = format!("list, page {depth} runs deep, SQLite, {LIST_CONNECTIONS} connections");
        Scenario::new(name, Kind::ListDeep, Some("SQLite"), rounds, Some(memory))
    }

    fn anon_kib(&self) -> Option<u64> {
        self.server_memory.map(|memory| memory.anon_kib)
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
        // The GET targets judge the default deployment, SQLite; PostgreSQL's
        // GET is judged as a share of it.
        let share = |what: &str, of: Option<&Scenario>, to: Option<&Scenario>, least: f64| {
            of.zip(to).map(|(of, to)| {
                let share = of.requests_per_s / to.requests_per_s;
                Target {
                    what: format!("{what} ≥ {:.0}%", least * 100.0),
                    measured: format!("{:.0}%", share * 100.0),
                    met: share >= least,
                }
            })
        };
        let get = self.find(Kind::Get, Some(GET_TARGET_BACKEND));
        targets.extend(
            [
                share(
                    "GET run / bare hyper",
                    get,
                    self.find(Kind::Baseline(Baseline::Hyper), None),
                    GET_SHARE_OF_HYPER,
                ),
                share(
                    "GET run / dropshot",
                    get,
                    self.find(Kind::Baseline(Baseline::Dropshot), None),
                    GET_SHARE_OF_DROPSHOT,
                ),
                share(
                    "GET run on PostgreSQL / on SQLite",
                    self.find(Kind::Get, Some("PostgreSQL")),
                    get,
                    POSTGRES_GET_SHARE_OF_SQLITE,
                ),
            ]
            .into_iter()
            .flatten(),
        );
        if let Some(get) = get {
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
        let anon_kib = self
            .scenarios
            .iter()
            .filter_map(Scenario::anon_kib)
            .max()
            .unwrap_or(0);
        targets.push(Target {
            what: format!(
                "server anonymous memory (RssAnon) < {:.0} MiB in every scenario",
                ANON_LIMIT_BYTES / MIB
            ),
            measured: format!("{} at most", mib(anon_kib)),
            met: (anon_kib as f64 * 1024.0) < ANON_LIMIT_BYTES,
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
            "| scenario | requests/s | p50 ms | p99 ms | server anon peak | file-backed | errors |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for s in &self.scenarios {
            let (anon, file) = s
                .server_memory
                .map_or(("–".to_owned(), "–".to_owned()), |m| {
                    (mib(m.anon_kib), mib(m.file_kib))
                });
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.2} | {:.2} | {anon} | {file} | {} |",
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

    /// A server's memory with `anon_kib` of its own and, as with a large
    /// memory-mapped SQLite file, far more file-backed: 900 MiB.
    fn memory(anon_kib: u64) -> MemoryPeak {
        let file_kib = 900 * 1024;
        MemoryPeak {
            anon_kib,
            file_kib,
            hwm_kib: anon_kib + file_kib,
        }
    }

    /// A report of one GET (three rounds), the hyper baseline, both list
    /// pages and a PUT (whose server has `put_anon_kib` of anonymous
    /// memory, the others less), judged.
    fn judged(get_rounds: [f64; 3], deep_p50: f64, put_anon_kib: u64, errors: u64) -> Report {
        let mut report = Report::new(&options());
        let get = get_rounds.map(|rps| round(rps, 1.0, 3.0, 0)).to_vec();
        report.add_all(vec![
            Scenario::get("SQLite", get, memory(40 * 1024)),
            Scenario::baseline(Baseline::Hyper, vec![round(100_000.0, 0.5, 3.0, 0)]),
            Scenario::baseline(Baseline::Dropshot, vec![round(66_000.0, 0.7, 3.0, 0)]),
            Scenario::put(
                "SQLite",
                vec![round(4_000.0, 3.0, 9.0, errors)],
                memory(put_anon_kib),
            ),
            Scenario::list_first(10, vec![round(9_000.0, 0.4, 1.0, 0)], memory(30 * 1024)),
            Scenario::list_deep(9, vec![round(8_000.0, deep_p50, 1.0, 0)], memory(30 * 1024)),
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
    fn get_shares_are_the_median_round_over_each_baseline() {
        // Median 49,000: one fast round does not carry it. 49% of bare
        // hyper's 100,000 and 74% of dropshot's 66,000 miss; 50,000 is 50%
        // and 76%.
        let report = judged([49_000.0, 90_000.0, 10_000.0], 0.5, 50 * 1024, 0);
        assert!(!met(&report, "GET run / bare hyper ≥ 50%"));
        assert!(!met(&report, "GET run / dropshot ≥ 75%"));
        let report = judged([50_000.0, 90_000.0, 10_000.0], 0.5, 50 * 1024, 0);
        assert!(met(&report, "GET run / bare hyper"));
        assert!(met(&report, "GET run / dropshot"));
        assert!(met(&report, "p99"));
    }

    #[test]
    fn postgresql_get_is_judged_as_a_share_of_sqlite_get() {
        let with_postgres = |requests_per_s| {
            let mut report = judged([60_000.0; 3], 0.5, 50 * 1024, 0);
            // A p99 far over the target: PostgreSQL's is not judged.
            report.add_all(vec![Scenario::get(
                "PostgreSQL",
                vec![round(requests_per_s, 3.0, 9.0, 0)],
                memory(30 * 1024),
            )]);
            report.judge();
            report
        };
        let report = with_postgres(36_000.0);
        assert!(met(&report, "GET run on PostgreSQL / on SQLite ≥ 60%"));
        assert!(met(&report, "p99 < 4 ms (SQLite)"));
        assert!(!met(&with_postgres(35_000.0), "on PostgreSQL"));
        let without = judged([60_000.0; 3], 0.5, 50 * 1024, 0);
        assert!(
            !without
                .targets
                .iter()
                .any(|t| t.what.contains("PostgreSQL")),
            "judged only when measured: {:?}",
            without.targets
        );
    }

    #[test]
    fn get_p99_of_4_ms_misses_the_target() {
        let mut report = Report::new(&options());
        report.add_all(vec![Scenario::get(
            "SQLite",
            vec![round(1.0, 1.0, 4.0, 0)],
            MemoryPeak::default(),
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
    fn anon_target_is_under_100_mebibytes() {
        // 102,400 KiB is exactly 100 MiB (104,857,600 bytes): not under it.
        assert!(met(
            &judged([1.0; 3], 0.4, 102_399, 0),
            "(RssAnon) < 100 MiB"
        ));
        assert!(!met(
            &judged([1.0; 3], 0.4, 102_400, 0),
            "(RssAnon) < 100 MiB"
        ));
    }

    #[test]
    fn file_backed_memory_is_reported_beside_anon_and_not_judged() {
        // Every server has 900 MiB of file-backed pages (and so a VmHWM
        // over 900 MiB), and the target is met on its anonymous memory.
        let report = judged([1.0; 3], 0.4, 50 * 1024, 0);
        assert!(met(&report, "RssAnon"));
        let markdown = report.markdown();
        assert!(
            markdown.contains("| server anon peak | file-backed | errors |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| 50.0 MiB | 900.0 MiB | 0 |"),
            "{markdown}"
        );
        // The baseline is not our server: no memory of its own.
        assert!(
            markdown.contains("same bytes from memory | 100000 | 0.50 | 3.00 | – | – | 0 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| 50.0 MiB at most | yes |"),
            "{markdown}"
        );
    }

    #[test]
    fn mebibytes_are_rounded_down_so_under_the_limit_never_reads_as_it() {
        assert_eq!(mib(102_399), "99.9 MiB");
        assert_eq!(mib(102_400), "100.0 MiB");
        assert_eq!(mib(0), "0.0 MiB");
    }

    #[test]
    fn results_json_names_what_the_memory_figures_are() {
        let report = judged([1.0; 3], 0.4, 50 * 1024, 0);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["scenarios"][3]["server_memory"],
            serde_json::json!({
                "anon_peak_kib": 50 * 1024,
                "file_peak_kib": 900 * 1024,
                "hwm_kib": 950 * 1024,
            })
        );
        // The baselines are not our server.
        assert!(json["scenarios"][1]["server_memory"].is_null());
        assert!(json["scenarios"][2]["server_memory"].is_null());
    }

    #[test]
    fn any_error_in_any_round_misses_the_target() {
        assert!(met(&judged([1.0; 3], 0.4, 0, 0), "no errors"));
        assert!(!met(&judged([1.0; 3], 0.4, 0, 1), "no errors"));
    }
}
