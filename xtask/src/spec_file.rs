//! The checked-in contract, `openapi.yaml` at the workspace root.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Path of the spec, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi.yaml";

/// The spec, parsed twice: as plain JSON for the semantic comparison and as
/// typed OpenAPI for progenitor.
pub struct SpecFile {
    pub json: serde_json::Value,
    pub openapi: openapiv3::OpenAPI,
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
        Ok(SpecFile {
            json: serde_norway::from_str(text).context("not YAML")?,
            openapi: serde_norway::from_str(text).context("not an OpenAPI 3.0 document")?,
        })
    }
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
