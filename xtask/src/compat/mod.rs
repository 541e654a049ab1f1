//! Spec ⇄ released: does `openapi.yaml` keep the promises of the latest
//! released contract to the clients generated from it, and does its
//! `info.version` say what changed?
//!
//! - [`released`]: the record of released contracts, `openapi/released/`.
//! - [`walk`] and [`schema`]: the two documents side by side, operation by
//!   operation, following `$ref`s.
//! - [`keywords`] and [`rules`]: the classification of every change, for
//!   values that clients send and values they receive.
//! - [`policy`]: the version bump the changes need.
//! - [`report`]: the plain-text report.

mod keywords;
mod policy;
mod released;
mod report;
mod rules;
mod schema;
#[cfg(test)]
mod tests;
mod walk;

use std::path::{Path, PathBuf};

use semver::Version;
use serde_json::Value;

pub use released::{RELEASED_DIR, Recorded, ReleasedContracts};
pub use report::CompatReport;
pub use rules::Impact;

use crate::spec_file::SpecFile;

/// Why the contracts could not be compared or recorded.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    NotOpenApi { path: PathBuf, message: String },
    #[error("{}: info.version {version:?} is not a semantic version (MAJOR.MINOR.PATCH)", path.display())]
    BadVersion { path: PathBuf, version: String },
    #[error("{} is not named <version>.yaml", .0.display())]
    StrayFile(PathBuf),
    #[error("{} holds info.version {version}, not the version of its name", path.display())]
    MisnamedRelease { path: PathBuf, version: Version },
    #[error(
        "{} already records {version} with other text; a released contract never changes, so bump info.version",
        path.display()
    )]
    ReleasedDiffers { path: PathBuf, version: Version },
    #[error("the $ref {reference:?} at {pointer} names nothing in the document")]
    UnresolvedRef { reference: String, pointer: String },
    #[error("the $refs or allOf from {pointer} loop")]
    RefLoop { pointer: String },
}

/// One version of the contract.
pub struct Contract {
    /// The text, compared and recorded byte for byte.
    pub text: String,
    pub json: Value,
    /// `info.version`.
    pub version: Version,
}

impl Contract {
    pub fn read(path: &Path) -> Result<Contract, CompatError> {
        let text = std::fs::read_to_string(path).map_err(|source| CompatError::Io {
            path: path.to_owned(),
            source,
        })?;
        Contract::parse(path, text)
    }

    /// Parses the text of a contract read from `path`.
    pub fn parse(path: &Path, text: String) -> Result<Contract, CompatError> {
        let json = SpecFile::parse(&text)
            .map_err(|error| CompatError::NotOpenApi {
                path: path.to_owned(),
                message: format!("{error:#}"),
            })?
            .json;
        let version = json["info"]["version"].as_str().unwrap_or_default();
        let version = Version::parse(version).map_err(|_| CompatError::BadVersion {
            path: path.to_owned(),
            version: version.to_owned(),
        })?;
        Ok(Contract {
            text,
            json,
            version,
        })
    }
}

/// Compares `current` with the latest of the `released` contracts.
pub fn check(
    current: &Contract,
    released: &ReleasedContracts,
) -> Result<CompatReport, CompatError> {
    let Some(latest) = released.latest()? else {
        return Ok(CompatReport::Unreleased {
            current: current.version.clone(),
        });
    };
    compare(&latest, released.latest_final()?.as_ref(), current)
}

/// Compares `current` with an `older` contract, given the latest final
/// release, if any, for the version policy.
pub fn compare(
    older: &Contract,
    last_final: Option<&Version>,
    current: &Contract,
) -> Result<CompatReport, CompatError> {
    let findings = walk::compare(&older.json, &current.json)?;
    Ok(CompatReport::Compared(report::Comparison::new(
        older.version.clone(),
        last_final,
        current.version.clone(),
        older.text == current.text,
        findings,
    )))
}

/// What `cargo xtask release-spec` did.
pub enum Release {
    /// `info.version` does not say what changed since the latest release.
    Refused(CompatReport),
    Done(Recorded),
}

/// Records `current` as released, if the check passes.
pub fn release(current: &Contract, released: &ReleasedContracts) -> Result<Release, CompatError> {
    let report = check(current, released)?;
    if !report.passes() {
        return Ok(Release::Refused(report));
    }
    released.record(current).map(Release::Done)
}
