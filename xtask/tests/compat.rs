//! `cargo xtask check` and `cargo xtask release-spec` end to end: the real
//! binary, on copies of the repository's contract in temporary directories
//! (through the hidden `--spec` and `--released` options).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_owned()
}

/// The repository's `openapi.yaml`, as JSON.
fn repository_spec() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

/// The repository's `info.version`: the latest release.
fn repository_version() -> semver::Version {
    semver::Version::parse(repository_spec()["info"]["version"].as_str().unwrap()).unwrap()
}

fn write_spec(path: &Path, spec: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_norway::to_string(spec).unwrap()).unwrap();
}

fn xtask(args: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// The report of one change: its first line and the two that follow.
fn finding<'a>(stdout: &'a str, first_line: &[&str]) -> Vec<&'a str> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines
        .iter()
        .position(|line| first_line.iter().all(|part| line.contains(part)))
        .unwrap_or_else(|| panic!("no line with {first_line:?} in:\n{stdout}"));
    lines[start..(start + 3).min(lines.len())].to_vec()
}

/// CI runs `cargo xtask check`: a response field removed from the contract
/// fails it, naming the rule, the place and the operations it breaks.
#[test]
fn a_removed_response_field_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = repository_spec();
    let run = &mut spec["components"]["schemas"]["TaskAgentRun"];
    run["properties"]
        .as_object_mut()
        .unwrap()
        .remove("duration_ms");
    run["required"]
        .as_array_mut()
        .unwrap()
        .retain(|name| name != "duration_ms");
    let spec_path = dir.path().join("openapi.yaml");
    write_spec(&spec_path, &spec);

    let (output, stdout) = xtask(&["check", "--spec", path(&spec_path)]);

    assert!(!output.status.success(), "{stdout}");
    let report = finding(
        &stdout,
        &[
            "breaking",
            "property-removed (response)",
            "at /components/schemas/TaskAgentRun/properties/duration_ms",
        ],
    );
    assert!(report[1].contains("`duration_ms` removed: clients that read it find nothing"));
    assert!(
        report[2].contains("get_task_agent_run response 200 .duration_ms"),
        "{report:#?}"
    );
    let version = repository_version();
    let next = semver::Version::new(version.major + 1, 0, 0);
    assert!(
        stdout.contains(&format!("spec ⇄ released {version}: 1 change (1 breaking); info.version {version} is the released version; the changes need a major bump, to {next}")),
        "{stdout}"
    );
}

/// The other parts of the check pass (the contract is the repository's), so
/// the failure is the compatibility check's alone: the released contract
/// promised a response field that `openapi.yaml` no longer has.
#[test]
fn the_compatibility_check_alone_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut released = repository_spec();
    let run = &mut released["components"]["schemas"]["TaskAgentRun"];
    run["properties"]["retry_count"] = serde_json::json!({ "type": "integer", "format": "int64" });
    run["required"]
        .as_array_mut()
        .unwrap()
        .push("retry_count".into());
    let released_dir = dir.path().join("released");
    let version = repository_version();
    write_spec(&released_dir.join(format!("{version}.yaml")), &released);

    let (output, stdout) = xtask(&["check", "--released", path(&released_dir)]);

    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("spec ⇄ server: in sync"), "{stdout}");
    assert!(
        stdout.contains("are what openapi.yaml generates"),
        "{stdout}"
    );
    finding(
        &stdout,
        &[
            "breaking",
            "property-removed (response)",
            "at /components/schemas/TaskAgentRun/properties/retry_count",
        ],
    );
}

/// `release-spec` copies the contract byte for byte once, and never records
/// other text under a released version.
#[test]
fn release_spec_records_a_version_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("openapi.yaml");
    let released_dir = dir.path().join("released");
    std::fs::copy(workspace_root().join("openapi.yaml"), &spec_path).unwrap();
    let args = [
        "release-spec",
        "--spec",
        path(&spec_path),
        "--released",
        path(&released_dir),
    ];
    let version = repository_version();
    let recorded = released_dir.join(format!("{version}.yaml"));

    let (output, stdout) = xtask(&args);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("recorded "), "{stdout}");
    assert!(
        stdout.contains(&format!("(info.version {version}) as")),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&recorded).unwrap(),
        std::fs::read(&spec_path).unwrap()
    );

    let (output, stdout) = xtask(&args);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("already records"), "{stdout}");

    let original = std::fs::read_to_string(&spec_path).unwrap();
    let reworded = original.replacen("title: Task Agent Runs API", "title: Task agent runs", 1);
    assert_ne!(original, reworded);
    std::fs::write(&spec_path, &reworded).unwrap();
    let (output, stdout) = xtask(&args);
    assert!(!output.status.success(), "{stdout}");
    let patch = semver::Version::new(version.major, version.minor, version.patch + 1);
    assert!(
        stdout.contains(&format!("the changes need a patch bump, to {patch}")),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&recorded).unwrap(), original);

    std::fs::write(
        &spec_path,
        reworded.replacen(
            &format!("version: {version}"),
            &format!("version: {patch}"),
            1,
        ),
    )
    .unwrap();
    let (output, stdout) = xtask(&args);
    assert!(output.status.success(), "{stdout}");
    assert!(
        released_dir.join(format!("{patch}.yaml")).exists(),
        "{stdout}"
    );
}

/// A release directory may hold hidden files (`.gitkeep`), and the final
/// release of a pre-release is recorded when its changes fit the bump from
/// the latest final release (here none: 1.0.0 → 1.1.0-rc.1 → 1.1.0).
#[test]
fn release_spec_records_the_final_release_of_a_pre_release() {
    let dir = tempfile::tempdir().unwrap();
    let released_dir = dir.path().join("released");
    let with_version = |version: &str| {
        let mut spec = repository_spec();
        spec["info"]["version"] = version.into();
        spec
    };
    write_spec(&released_dir.join("1.0.0.yaml"), &with_version("1.0.0"));
    write_spec(
        &released_dir.join("1.1.0-rc.1.yaml"),
        &with_version("1.1.0-rc.1"),
    );
    std::fs::write(released_dir.join(".gitkeep"), "").unwrap();
    let spec_path = dir.path().join("openapi.yaml");
    write_spec(&spec_path, &with_version("1.1.0"));

    let (output, stdout) = xtask(&[
        "release-spec",
        "--spec",
        path(&spec_path),
        "--released",
        path(&released_dir),
    ]);

    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(released_dir.join("1.1.0.yaml").exists(), "{stdout}");
}
