//! `cargo xbench run`: the API's hot paths under loopback load, beside a
//! baseline measured in the same run, with the figures the targets are
//! judged by (medians over alternating rounds, and their ratios: these
//! machines are shared and noisy).
//!
//! Scenarios, each against a release build with authentication on (ES256
//! tokens of the development issuer, verified and cached as in production):
//!
//! - **GET run**: random runs of 100,000 realistic ones, 64 connections, on
//!   SQLite and PostgreSQL; beside it, two baselines answering the same
//!   requests with the same bytes from memory, without auth, database or
//!   logging: bare hyper (the machine's HTTP limit) and dropshot (the
//!   framework's); and once more with the access log on;
//! - **list**: the first page of a task agent with 1,000,000 runs, and the
//!   page 900,000 runs deep (through a cursor), alternately;
//! - **PUT**: new runs, 16 connections, on SQLite and PostgreSQL;
//! - the server's memory during each: its anonymous memory (`RssAnon`:
//!   heap and stacks, what the target judges), sampled every 20 ms since
//!   the kernel keeps no peak of it, and beside it the file-backed resident
//!   memory (`RssFile`: mostly the memory-mapped SQLite file, page cache the
//!   kernel can reclaim) and the peak resident size (`VmHWM`, the sum);
//! - the FastAPI peer of `../shared/bench`, side by side with this server
//!   through that kit's `compare.sh`, when the kit is there.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::{peer, postgres, wrk};
use task_agent_server::samples::SampleRuns;

use crate::fixtures::Fixtures;
use crate::release_server::{self, ServerBinary, ServerProcess};
use crate::report::{Baseline, Report, Scenario};
use crate::wrk::{Load, Measured};

/// What to run, and how long.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchOptions {
    /// Seconds of each measured load
    #[arg(long, default_value_t = 10, value_parser = crate::at_least_one::<u64>())]
    pub duration_secs: u64,
    /// Seconds of unmeasured load before the first round of each scenario
    #[arg(long, default_value_t = 3)]
    pub warmup_secs: u64,
    /// Rounds of each comparison (A B A B ...); the medians are reported
    #[arg(long, default_value_t = 3, value_parser = crate::at_least_one::<usize>())]
    pub rounds: usize,
    /// Runs for the GET and PUT scenarios
    #[arg(long, default_value_t = 100_000)]
    pub runs: u64,
    /// Runs of the one task agent of the list scenario
    #[arg(long, default_value_t = 1_000_000)]
    pub list_runs: u64,
    /// How deep the deep page of the list scenario is
    #[arg(long, default_value_t = 900_000)]
    pub list_depth: u64,
    /// A PostgreSQL server (the bench creates and drops its own database
    /// there, and the server gets the URL's parameters); "none" skips the
    /// PostgreSQL scenarios. The default reaches the one on this machine
    /// through its Unix socket (Debian's directory), without TLS or TCP, as
    /// docs/OPERATIONS.md advises for a database on the server's own machine
    #[arg(
        long,
        env = "TASK_AGENT_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres"
    )]
    pub postgres: String,
    /// The benchmark kit with the FastAPI peer ("none" skips it)
    #[arg(long, default_value = "../shared/bench")]
    pub peer_kit: String,
    /// Where the results go (results.json, results.md) and the work files
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// Keep the work files (databases, path lists, tokens) under OUT/work,
    /// to load or profile a server by hand afterwards
    #[arg(long)]
    pub keep: bool,
}

/// Connections of the read scenarios, as in the issue and the peer's kit.
pub const READ_CONNECTIONS: u32 = 64;
/// Connections of the write scenario.
pub const WRITE_CONNECTIONS: u32 = 16;
/// Connections of the list scenario: few, so that the latency is the
/// query's and not the queue's.
pub const LIST_CONNECTIONS: u32 = 4;

/// How often [`memory_during`] reads the server's memory. The kernel keeps
/// no peak of `RssAnon`, so a burst shorter than this may be missed; a read
/// of `/proc/PID/status` costs microseconds, so this costs the load nothing.
const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// The highest memory figures of a server process over a stretch of load,
/// in KiB.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Serialize)]
pub struct MemoryPeak {
    /// Anonymous resident memory (`RssAnon`: heap, stacks), the highest
    /// sample: the process's own memory, which the target judges.
    #[serde(rename = "anon_peak_kib")]
    pub anon_kib: u64,
    /// File-backed resident memory (`RssFile`), the highest sample: mostly
    /// pages of the memory-mapped SQLite file, shared with the page cache
    /// and reclaimable, so reported but not judged.
    #[serde(rename = "file_peak_kib")]
    pub file_kib: u64,
    /// The kernel's peak resident size (`VmHWM`: anonymous, file-backed and
    /// shared together), since the process started or since
    /// [`ServerProcess::reset_peak_memory`].
    pub hwm_kib: u64,
}

impl MemoryPeak {
    /// The higher of each figure (the peaks of two stretches, together).
    pub fn max(self, other: MemoryPeak) -> MemoryPeak {
        MemoryPeak {
            anon_kib: self.anon_kib.max(other.anon_kib),
            file_kib: self.file_kib.max(other.file_kib),
            hwm_kib: self.hwm_kib.max(other.hwm_kib),
        }
    }
}

/// Runs `load` (blocking) while a thread samples `server`'s `RssAnon` and
/// `RssFile` every 20 ms, from before it starts to after it ends; what it
/// returned, with the highest samples and `VmHWM` read once it is done.
pub fn memory_during<T>(
    server: &ServerProcess,
    load: impl FnOnce() -> Result<T>,
) -> Result<(T, MemoryPeak)> {
    let (loaded, sampled) = std::thread::scope(|scope| {
        // Made inside the scope, so that the sender is dropped (and the
        // sampler stops) even when `load` panics, before the scope waits
        // for the sampler.
        let (stop, stopped) = mpsc::channel::<()>();
        let sampler = scope.spawn(move || -> std::io::Result<[u64; 2]> {
            let mut peak = [0, 0];
            loop {
                let sample = server.memory_fields_kib(["RssAnon:", "RssFile:"])?;
                peak = [peak[0].max(sample[0]), peak[1].max(sample[1])];
                match stopped.recv_timeout(MEMORY_SAMPLE_EVERY) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    // Nothing is ever sent: the load's end drops the sender.
                    _ => return Ok(peak),
                }
            }
        });
        let loaded = load();
        drop(stop);
        (loaded, sampler.join().expect("the memory sampler panicked"))
    });
    // The load's failure first: it is likelier the cause than the effect.
    let loaded = loaded?;
    let [anon_kib, file_kib] = sampled.context("sampling the server's memory")?;
    Ok((
        loaded,
        MemoryPeak {
            anon_kib,
            file_kib,
            hwm_kib: server.memory_kib("VmHWM:")?,
        },
    ))
}

/// Runs the benchmark and prints the report; whether every target was met.
pub fn bench(options: &BenchOptions) -> Result<bool> {
    wrk::ensure_installed()?;
    let release = release_server::build(&["task-agent-server", "bench-baselines"])?;
    let server = ServerBinary(release.join("task-agent-server"));
    let work = options.out.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let work = std::fs::canonicalize(&work)?;
    let bench = Bench {
        options,
        server,
        baselines: [Baseline::Hyper, Baseline::Dropshot]
            .map(|baseline| (baseline, release.join(baseline.binary()))),
        work,
    };
    let mut report = Report::new(options);

    let samples = SampleRuns::new(1, 4);
    let sqlite = format!("sqlite://{}", bench.work.join("runs.db").display());
    report.add_all(bench.reads_and_writes(&samples, &sqlite, "SQLite", true)?);
    if options.postgres != "none" {
        let database = postgres::fresh_database(&options.postgres, "task_agent_bench")?;
        report.add_all(bench.reads_and_writes(&samples, &database.url, "PostgreSQL", false)?);
    }
    report.add_all(bench.lists(&format!(
        "sqlite://{}",
        bench.work.join("list.db").display()
    ))?);
    if options.peer_kit != "none" {
        // The peer is measured last and by another kit: when it fails, the
        // figures measured so far are still reported.
        match peer::compare(Path::new(&options.peer_kit), &bench.server.0, options) {
            Ok(peer) => report.set_peer(peer),
            Err(error) => {
                eprintln!("the FastAPI peer could not be measured: {error:#}");
                report.set_peer_failure(format!("{error:#}"));
            }
        }
    }
    let met = report.write(&options.out)?;
    if options.keep {
        eprintln!("kept the work files in {}", bench.work.display());
    } else {
        // The databases (gigabytes for a million runs) are not worth keeping.
        let _ = std::fs::remove_dir_all(&bench.work);
    }
    Ok(met)
}

struct Bench<'a> {
    options: &'a BenchOptions,
    server: ServerBinary,
    baselines: [(Baseline, PathBuf); 2],
    work: PathBuf,
}

impl Bench<'_> {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.options.duration_secs)
    }

    /// Imports `count` runs of `samples` into `database`, makes the bench's
    /// reader and writer members and starts a server on it.
    fn seeded_server(
        &self,
        samples: &SampleRuns,
        count: u64,
        database: &str,
        name: &str,
    ) -> Result<(ServerProcess, Fixtures)> {
        eprintln!("seeding {count} runs into {name} ...");
        let summary = self
            .server
            .import(database, (0..count).map(|index| samples.import_line(index)))?;
        eprintln!("  {summary}");
        let org = samples.org_id.to_string();
        self.server
            .add_member(database, &org, "bench-reader", "reader")?;
        self.server
            .add_member(database, &org, "bench-writer", "writer")?;
        let issuer = self.work.join("issuer");
        let fixtures = Fixtures {
            issuer: issuer.clone(),
            reader: self.server.token(&issuer, "bench-reader", &[])?,
            writer: self
                .server
                .token(&issuer, "bench-writer", &["task_agent_runs:write"])?,
            dir: self.work.join(name),
        };
        std::fs::create_dir_all(&fixtures.dir)?;
        // For a look by hand with --keep.
        std::fs::write(fixtures.dir.join("reader.token"), &fixtures.reader)?;
        std::fs::write(fixtures.dir.join("writer.token"), &fixtures.writer)?;
        let server = fixtures.serve(&self.server, database, "warn")?;
        Ok((server, fixtures))
    }

    /// Unmeasured load, so that caches and pools are warm.
    fn warm_up(&self, load: &Load) -> Result<()> {
        if self.options.warmup_secs > 0 {
            Load {
                duration: Duration::from_secs(self.options.warmup_secs),
                args: load.args.clone(),
                ..*load
            }
            .run()?;
        }
        Ok(())
    }

    /// Measures `loads` in turn, `rounds` times (A B A B ...), each with
    /// the memory peaks over its rounds of the process it loads, if it is
    /// one of ours (zero otherwise).
    fn alternate(
        &self,
        loads: &[(&Load, Option<&ServerProcess>)],
    ) -> Result<Vec<(Vec<Measured>, MemoryPeak)>> {
        let mut results = vec![(Vec::new(), MemoryPeak::default()); loads.len()];
        for (load, _) in loads {
            self.warm_up(load)?;
        }
        for _ in 0..self.options.rounds {
            for ((load, server), (measured, peak)) in loads.iter().zip(&mut results) {
                let round = match server {
                    Some(server) => {
                        // So that VmHWM is this round's peak and not the
                        // seeding's or another scenario's.
                        server.reset_peak_memory()?;
                        let (round, memory) = memory_during(server, || load.run())?;
                        *peak = peak.max(memory);
                        round
                    }
                    None => load.run()?,
                };
                measured.push(round);
            }
        }
        Ok(results)
    }

    /// GET and PUT on one backend; on SQLite, GET also beside the baselines
    /// and with the access log on.
    fn reads_and_writes(
        &self,
        samples: &SampleRuns,
        database: &str,
        backend: &str,
        with_baselines: bool,
    ) -> Result<Vec<Scenario>> {
        let (server, fixtures) =
            self.seeded_server(samples, self.options.runs, database, backend)?;
        let url = server.base_url().to_owned();
        let (paths, paths_file) = fixtures.get_paths(samples, self.options.runs)?;
        let get = Load {
            script: "get_paths.lua",
            url: &url,
            args: vec![paths_file.display().to_string()],
            token: &fixtures.reader,
            connections: READ_CONNECTIONS,
            duration: self.duration(),
        };
        let mut scenarios = Vec::new();
        if with_baselines {
            let logged = fixtures.serve(&self.server, database, "info")?;
            let logged_url = logged.base_url().to_owned();
            let responses = fixtures.record_responses(&url, &paths)?;
            let baselines = self
                .baselines
                .iter()
                .map(|(baseline, binary)| {
                    let process = fixtures.start_baseline(binary, &responses, &paths[0])?;
                    Ok((*baseline, process))
                })
                .collect::<Result<Vec<_>>>()?;
            let urls: Vec<String> = baselines
                .iter()
                .map(|(_, process)| process.base_url().to_owned())
                .collect();
            let mut loads = vec![(
                Load {
                    url: &logged_url,
                    args: get.args.clone(),
                    ..get
                },
                Some(&logged),
            )];
            loads.extend(urls.iter().map(|url| {
                let load = Load {
                    url,
                    args: get.args.clone(),
                    ..get
                };
                (load, None)
            }));
            let mut all = vec![(&get, Some(&server))];
            all.extend(loads.iter().map(|(load, process)| (load, *process)));
            let mut measured = self.alternate(&all)?.into_iter();
            let (server_get, server_peak) = measured.next().expect("measured");
            let (logged_get, logged_peak) = measured.next().expect("measured");
            scenarios.push(Scenario::get(backend, server_get, server_peak));
            scenarios.push(Scenario::get_logged(backend, logged_get, logged_peak));
            for ((baseline, _), (rounds, _)) in baselines.iter().zip(measured) {
                scenarios.push(Scenario::baseline(*baseline, rounds));
            }
        } else {
            let [(server_get, server_peak)] = self
                .alternate(&[(&get, Some(&server))])?
                .try_into()
                .expect("one load");
            scenarios.push(Scenario::get(backend, server_get, server_peak));
        }

        let (agent, body) = fixtures.put_body(samples, self.options.runs)?;
        let put = Load {
            script: "put_runs.lua",
            url: &url,
            args: vec![agent, body.display().to_string()],
            token: &fixtures.writer,
            connections: WRITE_CONNECTIONS,
            duration: self.duration(),
        };
        let [(server_put, peak)] = self
            .alternate(&[(&put, Some(&server))])?
            .try_into()
            .expect("one load");
        scenarios.push(Scenario::put(backend, server_put, peak));
        Ok(scenarios)
    }

    /// The first page and a deep page of one task agent, alternately.
    fn lists(&self, database: &str) -> Result<Vec<Scenario>> {
        let samples = SampleRuns::new(2, 1);
        let runs = self.options.list_runs;
        let depth = self.options.list_depth.min(runs.saturating_sub(1));
        let (server, fixtures) = self.seeded_server(&samples, runs, database, "list")?;
        let url = server.base_url().to_owned();
        let (first, deep) = fixtures.list_pages(&samples, runs, depth, &url, database)?;
        let load = |page: &Path| Load {
            script: "get_paths.lua",
            url: &url,
            args: vec![page.display().to_string()],
            token: &fixtures.reader,
            connections: LIST_CONNECTIONS,
            duration: self.duration(),
        };
        let (first_load, deep_load) = (load(&first), load(&deep));
        let [(first_page, first_peak), (deep_page, deep_peak)] = self
            .alternate(&[(&first_load, Some(&server)), (&deep_load, Some(&server))])?
            .try_into()
            .expect("two loads");
        Ok(vec![
            Scenario::list_first(runs, first_page, first_peak),
            Scenario::list_deep(depth, deep_page, deep_peak),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process to sample: `sleep`, which has memory of both kinds.
    fn sleeper(name: &str) -> (ServerProcess, PathBuf) {
        let log = std::env::temp_dir().join(format!("bench-{name}-{}.log", std::process::id()));
        let mut command = std::process::Command::new("sleep");
        command.arg("60");
        let port = release_server::free_port().unwrap();
        (ServerProcess::spawn(command, port, &log).unwrap(), log)
    }

    #[test]
    fn memory_is_sampled_while_the_load_runs() {
        let (process, log) = sleeper("sampled");
        let (answer, memory) = memory_during(&process, || {
            std::thread::sleep(Duration::from_millis(100));
            Ok(42)
        })
        .unwrap();
        assert_eq!(answer, 42);
        assert!(memory.anon_kib > 0 && memory.file_kib > 0, "{memory:?}");
        // VmHWM counts both kinds.
        assert!(memory.hwm_kib >= memory.anon_kib, "{memory:?}");
        let error = memory_during(&process, || {
            Result::<()>::Err(anyhow::anyhow!("wrk failed"))
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "wrk failed");
        drop(process);
        let _ = std::fs::remove_file(log);
    }

    #[test]
    fn a_panicking_load_stops_the_sampler() {
        let (process, log) = sleeper("panicking");
        // Returns (instead of waiting forever for the sampler) and passes
        // the panic on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            memory_during(&process, || -> Result<()> { panic!("the load panics") })
        }));
        assert!(outcome.is_err());
        drop(process);
        let _ = std::fs::remove_file(log);
    }

    #[test]
    fn peaks_of_rounds_are_the_highest_of_each_figure() {
        let round = |anon_kib, file_kib, hwm_kib| MemoryPeak {
            anon_kib,
            file_kib,
            hwm_kib,
        };
        assert_eq!(round(3, 1, 5).max(round(2, 4, 6)), round(3, 4, 6));
    }
}
