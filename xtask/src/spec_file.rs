//! The checked-in contract, `openapi.yaml` at the workspace root.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Path of the spec, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi.yaml";

/// The spec, as plain JSON (the comparison reads it so, and the client is
/// generated from it).
pub struct SpecFile {
    pub json: serde_json::Value,
}

impl SpecFile {
    /// Reads `openapi.yaml` from the workspace root.
    pub fn load() -> Result<SpecFile> {
        let path = workspace_root().join(SPEC_PATH);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        SpecFile::parse(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Parses the YAML text of a spec.
    pub fn parse(text: &str) -> Result<SpecFile> {
        let json: serde_json::Value = serde_norway::from_str(text).context("not YAML")?;
        <openapiv3::OpenAPI as serde::Deserialize>::deserialize(&json)
            .context("not an OpenAPI 3.0 document")?;
        Ok(SpecFile { json })
    }
}

/// The keys of a path item that name operations.
pub const OPERATION_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The workspace root (the parent of this crate's directory).
///
/// `cargo run` and `cargo test` tell the process where the crate is; the
/// directory compiled in is only the fallback. Checkouts that share one
/// `CARGO_TARGET_DIR` share one build of xtask too, whose compiled-in
/// directory is whichever checkout built it first: `cargo xtask check` in
/// one checkout checked another's spec.
pub fn workspace_root() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    crate_dir
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
