//! Starting the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use dropshot::{ApiDescription, ConfigDropshot, HandlerTaskMode, HttpServer, ServerBuilder};

use crate::api::task_agent_runs_api_mod;
use crate::context::ServerContext;
use crate::handlers::TaskAgentRunsImpl;
use crate::probes;
use crate::storage::RunStore;

/// Largest request body accepted: a run with long tool and file lists is a
/// few tens of kilobytes; anything near this limit is a mistake or an attack.
pub const REQUEST_BODY_MAX_BYTES: usize = 1024 * 1024;

/// What the HTTP server needs to start.
pub struct HttpConfig {
    /// Address to listen on (port 0 picks a free port).
    pub bind: SocketAddr,
}

/// Every route: the API trait's operations and the unpublished probes.
pub fn api_description() -> anyhow::Result<ApiDescription<ServerContext>> {
    let mut api = task_agent_runs_api_mod::api_description::<TaskAgentRunsImpl>()
        .map_err(|error| anyhow::anyhow!("describing the API: {error}"))?;
    api.register(probes::healthz)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    api.register(probes::readyz)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(api)
}

/// Starts serving `store` on `config.bind`.
pub fn start(
    config: &HttpConfig,
    store: Arc<dyn RunStore>,
    log: slog::Logger,
) -> anyhow::Result<HttpServer<ServerContext>> {
    let dropshot_config = ConfigDropshot {
        bind_address: config.bind,
        default_request_body_max_bytes: REQUEST_BODY_MAX_BYTES,
        // A request whose client goes away still finishes its transaction.
        default_handler_task_mode: HandlerTaskMode::Detached,
        ..Default::default()
    };
    ServerBuilder::new(api_description()?, ServerContext { store }, log)
        .config(dropshot_config)
        .start()
        .with_context(|| format!("listening on {}", config.bind))
}
