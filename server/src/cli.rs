//! The `task-agent-server` command line.

use std::io::ErrorKind;
use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use dropshot::{ConfigLogging, ConfigLoggingLevel, HttpServer};

use crate::config::ServeArgs;
use crate::context::ServerContext;
use crate::database_url::DatabaseUrl;
use crate::demo::{self, DemoArgs};
use crate::server::{self, HttpConfig};

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
    Serve(ServeArgs),
    /// Start a server on SQLite with sample runs and print what to try
    Demo(DemoArgs),
}

/// Runs a command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => run_demo(args).await,
    }
}

fn logger(level: ConfigLoggingLevel) -> anyhow::Result<slog::Logger> {
    ConfigLogging::StderrTerminal { level }
        .to_logger("task-agent-server")
        .map_err(|error| anyhow::anyhow!("setting up logging: {error}"))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    let log = logger(config.log_level.clone())?;
    let store = config.database.open().await?;
    let server = server::start(&HttpConfig { bind: config.bind }, store, log.clone())?;
    slog::info!(log, "serving"; "address" => %server.local_addr(), "database" => %config.database);
    run_until_signal(server).await
}

async fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let database = DatabaseUrl::Sqlite(args.data_dir.join("demo.db"));
    let store = database.open().await?;
    let runs = demo::seed(store.as_ref()).await?;
    let log = logger(ConfigLoggingLevel::Warn)?;
    let server = match server::start(&HttpConfig { bind: args.bind }, store.clone(), log.clone()) {
        Ok(server) => server,
        Err(error) if is_address_in_use(&error) => {
            eprintln!("{} is taken; using a free port instead", args.bind);
            let any_port = SocketAddr::new(args.bind.ip(), 0);
            server::start(&HttpConfig { bind: any_port }, store, log)?
        }
        Err(error) => return Err(error),
    };
    println!(
        "{}",
        demo::instructions(&format!("http://{}", server.local_addr()), &database, runs)
    );
    run_until_signal(server).await
}

fn is_address_in_use(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::AddrInUse)
            || cause.to_string().contains("Address already in use")
    })
}

/// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight
/// requests finish and returns.
async fn run_until_signal(server: HttpServer<ServerContext>) -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("listening for SIGINT")?,
        _ = terminate.recv() => {}
    }
    server
        .close()
        .await
        .map_err(|error| anyhow::anyhow!("shutting down: {error}"))
}
