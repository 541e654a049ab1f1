//! The `task-agent-server` command line.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Parser, Subcommand};
use dropshot::{ConfigLoggingLevel, HttpServer};
use uuid::Uuid;

use crate::auth::{DevIssuer, TokenRequest};
use crate::config::{DEFAULT_DATA_DIR, ServeArgs};
use crate::context::ServerContext;
use crate::cursor;
use crate::database_url::{DEFAULT_DATABASE, DatabaseUrl};
use crate::demo::{self, DemoArgs};
use crate::import;
use crate::logging;
use crate::metrics::Metrics;
use crate::prune::{self, PruneOptions};
use crate::routes::Routes;
use crate::server::{self, ServerConfig};
use crate::storage::{FreedSpace, Membership, Reclaim, RetentionScope, Role};

/// The Task Agent Runs API server.
#[derive(Debug, Parser)]
#[command(name = "task-agent-server", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API
    Serve(Box<ServeArgs>),
    /// Start a server on SQLite with sample runs and a development issuer, and print what to try
    Demo(DemoArgs),
    /// Manage who may read and write the runs of an organization
    Members(MembersArgs),
    /// Manage the secret that keys list cursors (shared by every replica)
    CursorKey(CursorKeyArgs),
    /// Mint a token from the development issuer (see `serve --dev-issuer`)
    Token(TokenArgs),
    /// Bulk-load runs from an NDJSON file (one run per line, with org_id, project_id, task_agent_id and id)
    Import(ImportArgs),
    /// Delete the runs created before an instant, in small batches, while servers keep serving
    Prune(PruneArgs),
}

/// `prune`.
#[derive(Args, Debug)]
pub struct PruneArgs {
    /// The database: sqlite://PATH or postgres://...
    #[arg(long, env = "TASK_AGENT_DATABASE", default_value = DEFAULT_DATABASE)]
    pub database: DatabaseUrl,
    /// Delete the runs created before this instant (RFC 3339, e.g. 2025-01-31T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_rfc3339)]
    pub created_before: DateTime<Utc>,
    /// Only this organization's runs
    #[arg(long)]
    pub org: Option<Uuid>,
    /// Count the runs that would be deleted, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Runs deleted per transaction
    #[arg(long, default_value_t = prune::DEFAULT_BATCH_SIZE)]
    pub batch_size: NonZeroUsize,
    /// SQLite: afterwards, rewrite the file (VACUUM) to give all free space back; writers wait meanwhile
    #[arg(long, conflicts_with = "dry_run")]
    pub vacuum: bool,
}

/// An instant in RFC 3339, and only that (a bare date or a time without an
/// offset would leave the instant to guesswork).
fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| {
            format!(
                "{error}: expected an RFC 3339 instant with an offset, e.g. 2025-01-31T00:00:00Z"
            )
        })
}

/// `import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The database: sqlite://PATH or postgres://...
    #[arg(long, env = "TASK_AGENT_DATABASE", default_value = DEFAULT_DATABASE)]
    pub database: DatabaseUrl,
    /// Runs committed per transaction
    #[arg(long, default_value_t = import::DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
    /// The NDJSON file
    pub file: PathBuf,
}

/// `members` and the database it works on.
#[derive(Args, Debug)]
pub struct MembersArgs {
    /// The database: sqlite://PATH or postgres://...
    #[arg(long, env = "TASK_AGENT_DATABASE", default_value = DEFAULT_DATABASE, global = true)]
    pub database: DatabaseUrl,
    #[command(subcommand)]
    pub action: MembersAction,
}

/// What to do with memberships.
#[derive(Debug, Subcommand)]
pub enum MembersAction {
    /// Give a subject a role in an organization (or change its role)
    Add {
        #[arg(long)]
        org: Uuid,
        /// The token subject (`sub`)
        #[arg(long)]
        subject: String,
        /// reader or writer
        #[arg(long)]
        role: Role,
    },
    /// Take a subject's membership away
    Remove {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        subject: String,
    },
    /// List memberships, as tab-separated org, subject and role
    List {
        /// Only this organization's
        #[arg(long)]
        org: Option<Uuid>,
    },
}

/// `cursor-key` and the database it works on.
#[derive(Args, Debug)]
pub struct CursorKeyArgs {
    /// The database: sqlite://PATH or postgres://...
    #[arg(long, env = "TASK_AGENT_DATABASE", default_value = DEFAULT_DATABASE, global = true)]
    pub database: DatabaseUrl,
    #[command(subcommand)]
    pub action: CursorKeyAction,
}

/// What to do with the cursor key.
#[derive(Debug, Subcommand)]
pub enum CursorKeyAction {
    /// Replace the key with a new one: cursors issued before are refused, so lists in progress start again from the first page
    Rotate,
}

/// `token`.
#[derive(Args, Debug)]
pub struct TokenArgs {
    /// Directory of the development issuer's key (the server's --data-dir)
    #[arg(long, env = "TASK_AGENT_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// The subject (`sub`); give it a role with `members add`
    #[arg(long = "sub")]
    pub subject: String,
    /// A scope to grant (repeat for several); writing needs task_agent_runs:write
    #[arg(long)]
    pub scope: Vec<String>,
    /// An audience (repeat for several)
    #[arg(long)]
    pub aud: Vec<String>,
    /// Lifetime of the token, in seconds
    #[arg(long, default_value_t = 3600)]
    pub ttl_secs: u64,
}

/// Runs a command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Demo(args) => run_demo(args).await,
        Command::Members(args) => members(args).await,
        Command::CursorKey(args) => cursor_key(args).await,
        Command::Import(args) => run_import(args).await,
        Command::Prune(args) => run_prune(args).await,
        Command::Token(args) => {
            let issuer = DevIssuer::load_or_create(&args.data_dir)?;
            let request = TokenRequest {
                subject: args.subject,
                scopes: args.scope,
                audience: args.aud,
                ttl: Duration::from_secs(args.ttl_secs),
            };
            println!("{}", issuer.mint(&request)?);
            Ok(())
        }
    }
}

/// The root logger and the metrics it feeds.
fn observability(level: &ConfigLoggingLevel) -> (slog::Logger, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    (
        logging::logger(level, metrics.clone(), Routes::of_api()),
        metrics,
    )
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = ShutdownSignal::listen()?;
    let config = args.resolve()?;
    let (log, metrics) = observability(&config.log_level);
    let database = config.database.open().await?;
    let server = server::start(&config.server, database, log.clone(), metrics)?;
    slog::info!(log, "serving"; "address" => %server.local_addr(), "database" => %config.database);
    shutdown
        .serve_until(server, config.shutdown_grace, &log)
        .await
}

async fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let database = args.database.open().await?;
    let started = std::time::Instant::now();
    let summary = import::import(
        database,
        &args.file,
        args.batch_size.max(1),
        &mut |message| eprintln!("{message}"),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {} runs ({} created, {} replaced, {} unchanged) from {} lines in {seconds:.1} s ({:.0} runs/s)",
        summary.imported(),
        summary.created,
        summary.replaced,
        summary.unchanged,
        summary.lines,
        summary.imported() as f64 / seconds,
    );
    if !summary.rejected.is_empty() {
        anyhow::bail!(
            "{} lines were rejected (listed above); the others were imported",
            summary.rejected.len()
        );
    }
    Ok(())
}

async fn run_prune(args: PruneArgs) -> anyhow::Result<()> {
    if args.vacuum && !matches!(args.database, DatabaseUrl::Sqlite(_)) {
        anyhow::bail!(
            "--vacuum is for SQLite; PostgreSQL reuses the space of deleted runs once \
             (auto)vacuum has seen them"
        );
    }
    let database = args.database.open().await?;
    let options = PruneOptions {
        scope: RetentionScope {
            created_before: args.created_before.into(),
            org_id: args.org,
        },
        batch_size: args.batch_size.get(),
        dry_run: args.dry_run,
        reclaim: if args.vacuum {
            Reclaim::Full
        } else {
            Reclaim::Incremental
        },
    };
    let started = std::time::Instant::now();
    let summary = prune::prune(database.as_ref(), &options, &mut |message| {
        eprintln!("{message}")
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let created_before = args
        .created_before
        .to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let of_org = args
        .org
        .map_or_else(String::new, |org| format!(" of organization {org}"));
    if args.dry_run {
        println!(
            "would delete {} runs{of_org} created before {created_before} (dry run: nothing deleted)",
            summary.expired
        );
        return Ok(());
    }
    let space = match summary.space {
        Some(FreedSpace::File { given_back, kept }) if kept > 0 => format!(
            "; gave {} back to the file system, {} stay free inside the file for new runs \
             (prune --vacuum gives them back)",
            megabytes(given_back),
            megabytes(kept)
        ),
        Some(FreedSpace::File { given_back, .. }) => {
            format!("; gave {} back to the file system", megabytes(given_back))
        }
        Some(FreedSpace::Managed) | None => String::new(),
    };
    println!(
        "deleted {} runs{of_org} created before {created_before} in {:.1} s ({:.0} runs/s){space}; \
         {seconds:.1} s in all",
        summary.deleted,
        summary.deleting.as_secs_f64(),
        summary.deleted as f64 / summary.deleting.as_secs_f64(),
    );
    Ok(())
}

/// `bytes` in megabytes, for people.
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

async fn members(args: MembersArgs) -> anyhow::Result<()> {
    let database = args.database.open().await?;
    match args.action {
        MembersAction::Add { org, subject, role } => {
            database
                .put_member(&Membership {
                    org_id: org,
                    subject,
                    role,
                })
                .await?;
        }
        MembersAction::Remove { org, subject } => {
            if !database.remove_member(org, &subject).await? {
                anyhow::bail!("{subject} is not a member of {org}");
            }
        }
        MembersAction::List { org } => {
            for member in database.members(org).await? {
                println!("{}\t{}\t{}", member.org_id, member.subject, member.role);
            }
        }
    }
    Ok(())
}

async fn cursor_key(args: CursorKeyArgs) -> anyhow::Result<()> {
    let database = args.database.open().await?;
    match args.action {
        CursorKeyAction::Rotate => {
            let key = database.rotate_cursor_key().await?;
            println!(
                "cursor key {} is now current; running servers use it within {} s (at once \
                 when they see one of its cursors), and refuse the cursors of the old key",
                key.id,
                cursor::REFRESH_EVERY.as_secs()
            );
        }
    }
    Ok(())
}

async fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let shutdown = ShutdownSignal::listen()?;
    let database = DatabaseUrl::Sqlite(args.data_dir.join("demo.db"));
    let store = database.open().await?;
    let runs = demo::seed(store.as_ref()).await?;
    let issuer = DevIssuer::load_or_create(&args.data_dir)?;
    let reader_token = issuer.mint(&demo::reader_token_request())?;
    let (log, metrics) = observability(&ConfigLoggingLevel::Warn);
    let config = |bind| ServerConfig::new(bind, demo::auth_config(&args.data_dir));
    let server = match server::start(
        &config(args.bind),
        store.clone(),
        log.clone(),
        metrics.clone(),
    ) {
        Ok(server) => server,
        Err(error) if is_address_in_use(&error) => {
            eprintln!("{} is taken; using a free port instead", args.bind);
            server::start(
                &config(SocketAddr::new(args.bind.ip(), 0)),
                store,
                log.clone(),
                metrics,
            )?
        }
        Err(error) => return Err(error),
    };
    let base_url = format!("http://{}", server.local_addr());
    println!(
        "{}",
        demo::instructions(&base_url, &database, &args.data_dir, runs, &reader_token)
    );
    shutdown
        .serve_until(server, DEMO_SHUTDOWN_GRACE, &log)
        .await
}

fn is_address_in_use(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::AddrInUse)
            || cause.to_string().contains("Address already in use")
    })
}

/// How long the demo waits for requests in flight when stopped.
const DEMO_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// SIGINT and SIGTERM, listened for from the start, so that a signal that
/// arrives while the server is starting is not lost.
struct ShutdownSignal {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn listen() -> anyhow::Result<ShutdownSignal> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignal {
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
        })
    }

    /// Serves until a signal, then stops accepting connections and lets the
    /// requests in flight finish, for at most `grace`. The database pool
    /// closes when the server's state is dropped.
    async fn serve_until(
        mut self,
        server: HttpServer<ServerContext>,
        grace: Duration,
        log: &slog::Logger,
    ) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        slog::info!(log, "shutting down"; "grace_secs" => grace.as_secs());
        match tokio::time::timeout(grace, server.close()).await {
            Ok(closed) => closed.map_err(|error| anyhow::anyhow!("shutting down: {error}"))?,
            Err(_) => slog::warn!(
                log,
                "requests still in flight after the grace period were abandoned"
            ),
        }
        slog::info!(log, "stopped");
        Ok(())
    }
}
