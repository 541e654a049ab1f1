//! `dropshot-baseline`: the limit of the framework, for `cargo xbench run`:
//! dropshot, configured as the server is (handlers in their connection's
//! task), routing the run path to a handler that answers the recorded bytes
//! from memory: no authentication, no database, no logging.

use dropshot::{
    ApiDescription, Body, ConfigDropshot, HandlerTaskMode, HttpError, Path, RequestContext,
    ServerBuilder, endpoint,
};
use hyper::Response;
use schemars::JsonSchema;
use serde::Deserialize;

/// The run path, parsed as the server parses it.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)] // parsed for the work it costs, not read
struct RunPath {
    org_id: String,
    project_id: String,
    task_agent_id: String,
    run_id: String,
}

#[endpoint {
    method = GET,
    path = "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run/{run_id}",
}]
async fn get_run(
    rqctx: RequestContext<bench_baselines::Recorded>,
    _path: Path<RunPath>,
) -> Result<Response<Body>, HttpError> {
    let body = rqctx
        .context()
        .get(rqctx.request.uri().path())
        .ok_or_else(|| HttpError::for_not_found(None, "not recorded".to_owned()))?;
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(body.clone().into())?)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let (bind, recorded) = bench_baselines::arguments("dropshot-baseline");
    let mut api = ApiDescription::new();
    api.register(get_run).map_err(|error| error.to_string())?;
    let config = ConfigDropshot {
        bind_address: bind,
        default_handler_task_mode: HandlerTaskMode::CancelOnDisconnect,
        ..Default::default()
    };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    ServerBuilder::new(api, recorded, log)
        .config(config)
        .start()
        .map_err(|error| error.to_string())?
        .await
}
