//! The report of `cargo xtask check` on compatibility: one line for the
//! verdict, then every change with its rule, impact, place and usages.

use std::fmt;

use semver::Version;

use super::policy::{Bump, Step, Verdict};
use super::rules::Impact;
use super::walk::{Finding, Location};

/// How many usages of one change the report lists.
const USAGES_SHOWN: usize = 3;

/// Outcome of comparing `openapi.yaml` with the latest released contract.
#[derive(Debug)]
pub enum CompatReport {
    /// Nothing has been released yet: no client to keep working.
    Unreleased {
        current: Version,
    },
    Compared(Comparison),
}

/// `openapi.yaml` compared with a released contract.
#[derive(Debug)]
pub struct Comparison {
    pub released: Version,
    pub current: Version,
    /// Whether the text is the released text, byte for byte.
    pub identical: bool,
    /// Every change, the worst first.
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

impl CompatReport {
    /// The impact of the worst change, if anything changed.
    pub fn worst(&self) -> Option<Impact> {
        match self {
            CompatReport::Unreleased { .. } => None,
            CompatReport::Compared(comparison) => {
                comparison.findings.iter().map(|f| f.impact().0).max()
            }
        }
    }

    /// Whether `info.version` says what changed.
    pub fn passes(&self) -> bool {
        match self {
            CompatReport::Unreleased { .. } => true,
            CompatReport::Compared(comparison) => comparison.verdict.passes(),
        }
    }
}

impl Comparison {
    /// Judges `findings`, the changes from `released` to `current`, given
    /// the latest released final (not pre-release) version.
    pub fn new(
        released: Version,
        last_final: Option<&Version>,
        current: Version,
        identical: bool,
        findings: Vec<Finding>,
    ) -> Comparison {
        let worst = findings.iter().map(|f| f.impact().0).max();
        let verdict = Verdict::new(&released, last_final, &current, worst, identical);
        Comparison {
            released,
            current,
            identical,
            findings,
            verdict,
        }
    }

    /// "3 changes (1 breaking, 2 compatible)".
    fn summary(&self) -> String {
        if self.findings.is_empty() {
            return "no change that clients can see, but the text differs (layout, or prose outside the operations)".to_owned();
        }
        let counts: Vec<String> = [Impact::Breaking, Impact::Compatible, Impact::Documentation]
            .into_iter()
            .filter_map(|impact| {
                let count = self
                    .findings
                    .iter()
                    .filter(|f| f.impact().0 == impact)
                    .count();
                (count > 0).then(|| format!("{count} {}", impact.name()))
            })
            .collect();
        let n = self.findings.len();
        format!(
            "{n} change{} ({})",
            if n == 1 { "" } else { "s" },
            counts.join(", ")
        )
    }

    /// What the version says, and whether that is enough.
    fn judgement(&self) -> String {
        let (current, released) = (&self.current, &self.released);
        let step = match &self.verdict.made {
            Step::Older => {
                return format!("info.version {current} is older than the released {released}");
            }
            Step::Bump(Bump::None) => "is the released version".to_owned(),
            Step::Bump(made) => format!("is a {} bump", made.name()),
            Step::AfterPreRelease {
                since: Some(since),
                allows,
            } => format!(
                "follows the pre-release {released}, a {} bump from {since}",
                allows.name()
            ),
            Step::AfterPreRelease { since: None, .. } => {
                format!("follows the pre-release {released}, and no final release before it")
            }
        };
        if self.verdict.passes() {
            format!("info.version {current} {step}: enough")
        } else {
            format!(
                "info.version {current} {step}; the changes need a {} bump, to {}",
                self.verdict.needed.name(),
                self.verdict.enough
            )
        }
    }
}

impl fmt::Display for CompatReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let comparison = match self {
            CompatReport::Unreleased { current } => {
                return writeln!(
                    f,
                    "spec ⇄ released: nothing released yet (`cargo xtask release-spec` records info.version {current})"
                );
            }
            CompatReport::Compared(comparison) => comparison,
        };
        let released = &comparison.released;
        if comparison.identical {
            return writeln!(
                f,
                "spec ⇄ released {released}: openapi.yaml is the released contract, byte for byte"
            );
        }
        writeln!(
            f,
            "spec ⇄ released {released}: {}; {}",
            comparison.summary(),
            comparison.judgement()
        )?;
        for finding in &comparison.findings {
            let (impact, why) = finding.impact();
            let rule = finding.change.rule();
            let side = finding
                .side
                .map(|side| format!(" ({})", side.name()))
                .unwrap_or_default();
            let location = match &finding.location {
                Location::Current(pointer) => pointer.clone(),
                Location::Released(pointer) => format!("{pointer} (of released {released})"),
            };
            writeln!(f, "  {:<13} {}{side} at {location}", impact.name(), rule.id)?;
            writeln!(f, "      {}: {why}", finding.detail)?;
            if !finding.usages.is_empty() {
                let mut shown = finding.usages[..finding.usages.len().min(USAGES_SHOWN)].join("; ");
                if finding.usages.len() > USAGES_SHOWN {
                    shown.push_str(&format!(
                        "; … and {} more",
                        finding.usages.len() - USAGES_SHOWN
                    ));
                }
                writeln!(f, "      where: {shown}")?;
            }
        }
        if comparison.verdict.passes() {
            writeln!(
                f,
                "When {} ships, record it: `cargo xtask release-spec`.",
                comparison.current
            )
        } else {
            writeln!(
                f,
                "Make the changes compatible, or set info.version to {} (see docs/CONTRIBUTING.md).",
                comparison.verdict.enough
            )
        }
    }
}
