//! Unpublished endpoints for operators: liveness and readiness.

use dropshot::{HttpError, HttpResponseOk, RequestContext, endpoint};
use schemars::JsonSchema;
use serde::Serialize;

use crate::context::ServerContext;
use crate::error::ApiError;

/// The answer of a probe.
#[derive(JsonSchema, Serialize)]
pub struct ProbeStatus {
    status: &'static str,
}

/// The process is up and serving HTTP.
#[endpoint { method = GET, path = "/healthz", unpublished = true }]
pub async fn healthz(
    _rqctx: RequestContext<ServerContext>,
) -> Result<HttpResponseOk<ProbeStatus>, HttpError> {
    Ok(HttpResponseOk(ProbeStatus { status: "ok" }))
}

/// The server can serve requests: its database answers. 503 otherwise, so
/// a load balancer sends traffic elsewhere until it recovers.
#[endpoint { method = GET, path = "/readyz", unpublished = true }]
pub async fn readyz(
    rqctx: RequestContext<ServerContext>,
) -> Result<HttpResponseOk<ProbeStatus>, HttpError> {
    rqctx.context().store.ping().await.map_err(ApiError::from)?;
    Ok(HttpResponseOk(ProbeStatus { status: "ready" }))
}
