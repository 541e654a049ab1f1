//! The API reference (`task_agent_api_docs`), served by the server itself:
//! none of these routes is part of the published API, and none needs a
//! token.

use dropshot::{Body, HttpError, RequestContext, endpoint};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::{Response, StatusCode};
use task_agent_api_docs::{BUNDLE_FILE, SPEC_YAML, bundle, reference_html, spec_json};

use crate::context::ServerContext;

/// What the reference page may load: only this server. (The inline parts
/// are Scalar's start-up script and its styles.)
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'";

fn ok(content_type: &str, cache: &str) -> http::response::Builder {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .header(CACHE_CONTROL, cache)
}

/// The interactive API reference.
#[endpoint { method = GET, path = "/docs", unpublished = true }]
pub async fn reference(_rqctx: RequestContext<ServerContext>) -> Result<Response<Body>, HttpError> {
    let page = reference_html("/openapi.json", &format!("/docs/{BUNDLE_FILE}"), Some("/"));
    Ok(ok("text/html; charset=utf-8", "no-cache")
        .header(CONTENT_SECURITY_POLICY, PAGE_POLICY)
        .body(page.into())?)
}

/// The reference's script.
#[endpoint { method = GET, path = "/docs/scalar.js", unpublished = true }]
pub async fn reference_bundle(
    _rqctx: RequestContext<ServerContext>,
) -> Result<Response<Body>, HttpError> {
    Ok(ok(
        "application/javascript; charset=utf-8",
        "public, max-age=86400",
    )
    .body(bundle().into())?)
}

/// The contract, as checked in.
#[endpoint { method = GET, path = "/openapi.yaml", unpublished = true }]
pub async fn spec_yaml(_rqctx: RequestContext<ServerContext>) -> Result<Response<Body>, HttpError> {
    Ok(ok("application/yaml; charset=utf-8", "no-cache").body(SPEC_YAML.into())?)
}

/// The contract, as JSON.
#[endpoint { method = GET, path = "/openapi.json", unpublished = true }]
pub async fn spec_json_document(
    _rqctx: RequestContext<ServerContext>,
) -> Result<Response<Body>, HttpError> {
    Ok(ok("application/json", "no-cache").body(spec_json().into())?)
}
