//! The API reference, served by the server itself with no request leaving
//! the reader's machine: the checked-in `openapi.yaml` (and the same
//! document as JSON), and Scalar's interactive reference, whose bundle is
//! embedded in the binary. None of these routes is part of the published
//! API, and none needs a token.

use std::sync::LazyLock;

use dropshot::{Body, HttpError, RequestContext, endpoint};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
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
/// Requests made with "Test Request" go to `server_url`, or to the spec's
/// `servers` without one.
pub fn reference_html(spec_url: &str, bundle_url: &str, server_url: Option<&str>) -> String {
    let mut config = json!({
        "url": spec_url,
        "withDefaultFonts": false,
        "agent": { "disabled": true },
        "hideClientButton": true,
        "showDeveloperTools": "never",
        "telemetry": false,
        "authentication": { "preferredSecurityScheme": "bearerAuth" },
        "defaultOpenAllTags": true,
        "metaData": { "title": "Task Agent Runs API" },
    });
    if let Some(url) = server_url {
        config["servers"] = json!([{ "url": url, "description": "This server" }]);
    }
    scalar_api_reference::scalar_html(&config, Some(bundle_url)).replace(
        "<title>Scalar API Reference</title>",
        "<title>Task Agent Runs API</title>",
    )
}

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
