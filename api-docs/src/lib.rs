//! The API reference as files, with no request leaving the reader's
//! machine: the checked-in `openapi.yaml` (and the same document as JSON),
//! and Scalar's interactive reference page, whose bundle is embedded. The
//! server serves them at `/docs`; `cargo xtask docs` writes them out as a
//! static site.

use std::sync::LazyLock;

use serde_json::json;

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
