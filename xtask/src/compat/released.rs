//! The record of released contracts: `openapi/released/<version>.yaml`, each
//! a byte-for-byte copy of `openapi.yaml` as it was when that version was
//! released. Clients were generated from each, so none ever changes.

use std::path::{Path, PathBuf};

use semver::Version;

use super::{CompatError, Contract};

/// Where released contracts are recorded, relative to the workspace root.
pub const RELEASED_DIR: &str = "openapi/released";

/// A directory of released contracts.
pub struct ReleasedContracts {
    dir: PathBuf,
}

/// What recording a contract did.
#[derive(Debug, PartialEq)]
pub enum Recorded {
    /// The file was written.
    Written(PathBuf),
    /// The file already held this very text.
    AlreadyThere(PathBuf),
}

impl ReleasedContracts {
    pub fn new(dir: PathBuf) -> ReleasedContracts {
        ReleasedContracts { dir }
    }

    /// Every released version and its file, oldest first; none when the
    /// directory does not exist yet. Hidden files (`.gitkeep`, `.DS_Store`)
    /// are no releases.
    fn versions(&self) -> Result<Vec<(Version, PathBuf)>, CompatError> {
        let io = |source| CompatError::Io {
            path: self.dir.clone(),
            source,
        };
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(error)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let path = entry.map_err(io)?.path();
            let hidden = path
                .file_name()
                .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
            if hidden {
                continue;
            }
            // Anything else here would be a release nobody compares with.
            let version = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(".yaml"))
                .and_then(|version| Version::parse(version).ok())
                .ok_or_else(|| CompatError::StrayFile(path.clone()))?;
            versions.push((version, path));
        }
        versions.sort();
        Ok(versions)
    }

    /// The released contract with the highest version, if any.
    pub fn latest(&self) -> Result<Option<Contract>, CompatError> {
        let Some((version, path)) = self.versions()?.pop() else {
            return Ok(None);
        };
        let contract = Contract::read(&path)?;
        if contract.version != version {
            return Err(CompatError::MisnamedRelease {
                path,
                version: contract.version,
            });
        }
        Ok(Some(contract))
    }

    /// The highest released final (not pre-release) version, if any.
    pub fn latest_final(&self) -> Result<Option<Version>, CompatError> {
        let mut versions = self.versions()?.into_iter().map(|(version, _)| version);
        Ok(versions.rfind(|version| version.pre.is_empty()))
    }

    /// The file that records `version`.
    fn path_of(&self, version: &Version) -> PathBuf {
        self.dir.join(format!("{version}.yaml"))
    }

    /// Records `contract` as the release of its version, byte for byte;
    /// refuses to replace a different text recorded under that version.
    pub fn record(&self, contract: &Contract) -> Result<Recorded, CompatError> {
        let path = self.path_of(&contract.version);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CompatError::Io { path, source }
        };
        match std::fs::read_to_string(&path) {
            Ok(recorded) if recorded == contract.text => return Ok(Recorded::AlreadyThere(path)),
            Ok(_) => {
                return Err(CompatError::ReleasedDiffers {
                    path,
                    version: contract.version.clone(),
                });
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(&path)(error)),
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        std::fs::write(&path, &contract.text).map_err(io(&path))?;
        Ok(Recorded::Written(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(version: &str, title: &str) -> Contract {
        let text =
            format!("openapi: 3.0.3\ninfo:\n  title: {title}\n  version: {version}\npaths: {{}}\n");
        Contract::parse(Path::new("openapi.yaml"), text).unwrap()
    }

    #[test]
    fn a_contract_is_recorded_byte_for_byte_once() {
        let dir = tempfile::tempdir().unwrap();
        let released = ReleasedContracts::new(dir.path().join("released"));
        assert!(released.latest().unwrap().is_none());

        let first = contract("1.0.0", "A");
        let path = dir.path().join("released/1.0.0.yaml");
        assert_eq!(
            released.record(&first).unwrap(),
            Recorded::Written(path.clone())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first.text);
        assert_eq!(
            released.record(&first).unwrap(),
            Recorded::AlreadyThere(path.clone())
        );

        let error = released.record(&contract("1.0.0", "B")).unwrap_err();
        assert!(
            matches!(error, CompatError::ReleasedDiffers { .. }),
            "{error}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            first.text,
            "left alone"
        );
    }

    #[test]
    fn the_latest_release_is_the_highest_version() {
        let dir = tempfile::tempdir().unwrap();
        let released = ReleasedContracts::new(dir.path().to_owned());
        for version in ["1.9.0", "1.10.0", "1.2.3"] {
            released.record(&contract(version, "A")).unwrap();
        }
        let latest = released.latest().unwrap().unwrap();
        assert_eq!(latest.version, Version::new(1, 10, 0));
    }

    #[test]
    fn hidden_files_are_no_releases() {
        let dir = tempfile::tempdir().unwrap();
        let released = ReleasedContracts::new(dir.path().to_owned());
        for name in [".gitkeep", ".DS_Store"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert!(released.latest().unwrap().is_none());
        released.record(&contract("1.0.0", "A")).unwrap();
        assert_eq!(
            released.latest().unwrap().unwrap().version,
            Version::new(1, 0, 0)
        );
    }

    #[test]
    fn the_latest_final_release_is_not_a_pre_release() {
        let dir = tempfile::tempdir().unwrap();
        let released = ReleasedContracts::new(dir.path().to_owned());
        assert_eq!(released.latest_final().unwrap(), None);
        for version in ["1.0.0-rc.1", "1.0.0", "1.1.0-rc.1"] {
            released.record(&contract(version, "A")).unwrap();
        }
        assert_eq!(
            released.latest_final().unwrap(),
            Some(Version::new(1, 0, 0))
        );
        assert_eq!(
            released.latest().unwrap().unwrap().version,
            Version::parse("1.1.0-rc.1").unwrap()
        );
    }

    #[test]
    fn a_stray_or_misnamed_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let released = ReleasedContracts::new(dir.path().to_owned());
        std::fs::write(dir.path().join("2.0.0.yaml"), contract("1.0.0", "A").text).unwrap();
        assert!(matches!(
            released.latest(),
            Err(CompatError::MisnamedRelease { .. })
        ));
        std::fs::write(dir.path().join("latest.yaml"), "").unwrap();
        assert!(matches!(released.latest(), Err(CompatError::StrayFile(_))));
    }
}
