//! The API reference, served by the server itself with no request leaving
//! the reader's machine: the checked-in `openapi.yaml` (and the same
//! document as JSON), and Scalar's interactive reference, whose bundle is
//! embedded in the binary. None of these routes is part of the published
//! API, and none needs a token.

use std::sync::LazyLock;

use dropshot::{Body, HttpError, RequestContext, endpoint};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde_json::json;

use crate::context::ServerContext;

/// The contract, byte for byte as checked in.
pub const SPEC_YAML: &str = include_str!("../../openapi.yaml");

/// The file name of Scalar's bundle, next to the reference page.
pub const BUNDLE_FILE: &str = "scalar.js";

/// The contract as JSON (the same document).
pub fn spec_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let document: serde_json::Value =
            serde_norway::from_str(SPEC_YAML).expect("openapi.yaml is YAML");
        serde_json::to_string_pretty(&document).expect("a JSON value serializes")
    });
    &JSON
}

/// Scalar's JavaScript bundle.
pub fn bundle() -> Vec<u8> {
    scalar_api_reference::get_asset(BUNDLE_FILE).expect("the Scalar bundle is embedded")
}

/// The reference page: Scalar reading the spec at `spec_url`, with its
/// bundle at `bundle_url`. Everything that would reach the internet is off:
/// web fonts, the AI agent, the hosted client and the request proxy.
/// Requests made with "Test Request" go to `server_url`.
pub fn reference_html(spec_url: &str, bundle_url: &str, server_url: &str) -> String {
    let config = json!({
        "url": spec_url,
        "withDefaultFonts": false,
        "agent": { "disabled": true },
        "hideClientButton": true,
        "showDeveloperTools": "never",
        "telemetry": false,
        "servers": [{ "url": server_url, "description": "This server" }],
        "authentication": { "preferredSecurityScheme": "bearerAuth" },
        "defaultOpenAllTags": true,
        "metaData": { "title": "Task Agent Runs API" },
    });
    scalar_api_reference::scalar_html(&config, Some(bundle_url)).replace(
        "<title>Scalar API Reference</title>",
        "<title>Task Agent Runs API</title>",
    )
}

fn respond(
    content_type: &str,
    cache: &str,
    body: impl Into<Body>,
) -> Result<Response<Body>, HttpError> {
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .header(CACHE_CONTROL, cache)
        .body(body.into())?)
}

/// The interactive API reference.
#[endpoint { method = GET, path = "/docs", unpublished = true }]
pub async fn reference(_rqctx: RequestContext<ServerContext>) -> Result<Response<Body>, HttpError> {
    let page = reference_html("/openapi.json", &format!("/docs/{BUNDLE_FILE}"), "/");
    respond("text/html; charset=utf-8", "no-cache", page)
}

/// The reference's script.
#[endpoint { method = GET, path = "/docs/scalar.js", unpublished = true }]
pub async fn reference_bundle(
    _rqctx: RequestContext<ServerContext>,
) -> Result<Response<Body>, HttpError> {
    respond(
        "application/javascript; charset=utf-8",
        "public, max-age=86400",
        bundle(),
    )
}

/// The contract, as checked in.
#[endpoint { method = GET, path = "/openapi.yaml", unpublished = true }]
pub async fn spec_yaml(_rqctx: RequestContext<ServerContext>) -> Result<Response<Body>, HttpError> {
    respond("application/yaml; charset=utf-8", "no-cache", SPEC_YAML)
}

/// The contract, as JSON.
#[endpoint { method = GET, path = "/openapi.json", unpublished = true }]
pub async fn spec_json_document(
    _rqctx: RequestContext<ServerContext>,
) -> Result<Response<Body>, HttpError> {
    respond("application/json", "no-cache", spec_json())
}
