//! Unpublished endpoints for operators and tools: liveness, readiness,
//! metrics, and the development issuer's keys.

use dropshot::{Body, HttpError, HttpResponseOk, RequestContext, endpoint};
use http::Response;
use http::header::CONTENT_TYPE;
use jsonwebtoken::jwk::JwkSet;
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

/// The server can serve requests: its database answers and the token
/// issuer's keys are loaded. 503 otherwise, so that a load balancer sends
/// traffic elsewhere until it recovers, with the cause as the message (a
/// refused certificate, a database that does not answer).
#[endpoint { method = GET, path = "/readyz", unpublished = true }]
pub async fn readyz(
    rqctx: RequestContext<ServerContext>,
) -> Result<HttpResponseOk<ProbeStatus>, HttpError> {
    let context = rqctx.context();
    context
        .database
        .ping()
        .await
        .map_err(|error| ApiError::NotReady(error.into()))?;
    if !context.verifier.is_ready() {
        return Err(ApiError::NotReady(anyhow::anyhow!(
            "the token issuer's keys are not loaded yet"
        ))
        .into());
    }
    Ok(HttpResponseOk(ProbeStatus { status: "ready" }))
}

/// Metrics in Prometheus' text format.
#[endpoint { method = GET, path = "/metrics", unpublished = true }]
pub async fn metrics(rqctx: RequestContext<ServerContext>) -> Result<Response<Body>, HttpError> {
    let context = rqctx.context();
    let text = context.metrics.render(
        context.database.pool_status(),
        context.verifier.cached_tokens(),
    );
    Ok(Response::builder()
        .header(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .body(text.into())?)
}

/// The development issuer's public keys (404 unless it is enabled).
#[endpoint { method = GET, path = "/.well-known/jwks.json", unpublished = true }]
pub async fn jwks(
    rqctx: RequestContext<ServerContext>,
) -> Result<HttpResponseOk<JwksDocument>, HttpError> {
    match &rqctx.context().dev_jwks {
        Some(keys) => Ok(HttpResponseOk(JwksDocument(keys.clone()))),
        None => Err(HttpError::for_not_found(
            None,
            "no development issuer".to_owned(),
        )),
    }
}

/// A JWKS document (unpublished, so its schema is only a placeholder).
#[derive(Serialize)]
#[serde(transparent)]
pub struct JwksDocument(JwkSet);

impl JsonSchema for JwksDocument {
    fn schema_name() -> String {
        "JwksDocument".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        serde_json::Value::json_schema(generator)
    }
}
