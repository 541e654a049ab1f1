//! The version policy: the bump of `info.version`, relative to the latest
//! released contract, that the changes need.
//!
//! | changes                                       | bump at least |
//! |-----------------------------------------------|---------------|
//! | none (the text is the released text)          | none          |
//! | documentation, or text that clients cannot see | patch        |
//! | compatible                                    | minor         |
//! | breaking                                      | major         |
//!
//! A released version never changes (clients were generated from it), so
//! the released version number with any other text fails.
//!
//! A pre-release promises nothing until its final release: after
//! `1.1.0-rc.1`, `1.1.0-rc.2` and `1.1.0` may change what the bump from the
//! latest final release (`1.0.0` → `1.1.0`, a minor bump) allows.

use semver::Version;

use super::rules::Impact;

/// A version bump, the smallest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    None,
    Patch,
    Minor,
    Major,
}

impl Bump {
    /// The word the report uses.
    pub fn name(self) -> &'static str {
        match self {
            Bump::None => "no",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }

    /// The bump that changes need, given the worst of them, if any, and
    /// whether the text is the released text.
    pub fn needed(worst: Option<Impact>, identical: bool) -> Bump {
        match worst {
            _ if identical => Bump::None,
            None | Some(Impact::Documentation) => Bump::Patch,
            Some(Impact::Compatible) => Bump::Minor,
            Some(Impact::Breaking) => Bump::Major,
        }
    }

    /// The bump of the numbers from `older` to `newer`; pre-releases do not
    /// count.
    fn of_numbers(older: &Version, newer: &Version) -> Bump {
        let (old, new) = (numbers(older), numbers(newer));
        if new.0 > old.0 {
            Bump::Major
        } else if new.1 > old.1 {
            Bump::Minor
        } else if new.2 > old.2 {
            Bump::Patch
        } else {
            Bump::None
        }
    }

    /// The smallest version after `released` that makes this bump.
    fn apply(self, released: &Version) -> Version {
        let (major, minor, patch) = (released.major, released.minor, released.patch);
        match self {
            Bump::None => released.clone(),
            Bump::Patch => Version::new(major, minor, patch + 1),
            Bump::Minor => Version::new(major, minor + 1, 0),
            Bump::Major => Version::new(major + 1, 0, 0),
        }
    }
}

/// A version's numbers, without its pre-release.
fn numbers(version: &Version) -> (u64, u64, u64) {
    (version.major, version.minor, version.patch)
}

/// How `info.version` follows the latest released version.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// It is older: never right.
    Older,
    /// A bump of the numbers (`Bump::None`: the same numbers).
    Bump(Bump),
    /// A later pre-release, or the final release, of the released
    /// pre-release: it may make the changes that the bump from the latest
    /// final release (`since`) allows, and any change if there is none.
    AfterPreRelease {
        since: Option<Version>,
        allows: Bump,
    },
}

impl Step {
    /// How `current` follows `released`, given the latest released final
    /// (not pre-release) version.
    fn between(released: &Version, last_final: Option<&Version>, current: &Version) -> Step {
        if current < released {
            Step::Older
        } else if !released.pre.is_empty()
            && current > released
            && numbers(current) == numbers(released)
        {
            Step::AfterPreRelease {
                since: last_final.cloned(),
                allows: last_final.map_or(Bump::Major, |last| Bump::of_numbers(last, current)),
            }
        } else {
            Step::Bump(Bump::of_numbers(released, current))
        }
    }

    /// The greatest bump of changes the step allows; `None` for none.
    fn allows(&self) -> Option<Bump> {
        match self {
            Step::Older => None,
            Step::Bump(bump) | Step::AfterPreRelease { allows: bump, .. } => Some(*bump),
        }
    }
}

/// The bump the changes need, the step `info.version` makes, and the
/// smallest version that would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub needed: Bump,
    pub made: Step,
    /// The smallest version after the released one that allows the changes.
    pub enough: Version,
}

impl Verdict {
    /// Judges the changes from `released` to `current`, the worst of them
    /// `worst`, given the latest released final (not pre-release) version.
    pub fn new(
        released: &Version,
        last_final: Option<&Version>,
        current: &Version,
        worst: Option<Impact>,
        identical: bool,
    ) -> Verdict {
        let needed = Bump::needed(worst, identical);
        // After a pre-release, its final release is the first candidate.
        let finished = Version::new(released.major, released.minor, released.patch);
        let enough = if Step::between(released, last_final, &finished).allows() >= Some(needed) {
            finished
        } else {
            needed.apply(released)
        };
        Verdict {
            needed,
            made: Step::between(released, last_final, current),
            enough,
        }
    }

    /// Whether `info.version` allows the changes.
    pub fn passes(&self) -> bool {
        self.made
            .allows()
            .is_some_and(|allows| allows >= self.needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    /// `(latest final release ("" for none), released, current, worst
    /// change, identical text, passes, smallest version that passes)`.
    #[test]
    fn each_kind_of_change_needs_its_bump() {
        const N: Option<Impact> = None;
        const D: Option<Impact> = Some(Impact::Documentation);
        const C: Option<Impact> = Some(Impact::Compatible);
        const B: Option<Impact> = Some(Impact::Breaking);
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            Option<Impact>,
            bool,
            bool,
            &'static str,
        );
        let cases: &[Case] = &[
            ("1.0.0", "1.0.0", "1.0.0", N, true, true, "1.0.0"),
            ("1.0.0", "1.0.0", "1.0.0", N, false, false, "1.0.1"),
            ("1.0.0", "1.0.0", "1.0.1", N, false, true, "1.0.1"),
            ("1.0.0", "1.0.0", "1.0.0", D, false, false, "1.0.1"),
            ("1.0.0", "1.0.0", "1.0.1", D, false, true, "1.0.1"),
            ("1.0.0", "1.0.0", "1.0.1", C, false, false, "1.1.0"),
            ("1.0.0", "1.0.0", "1.1.0", C, false, true, "1.1.0"),
            ("1.0.0", "1.0.0", "2.0.0", C, false, true, "1.1.0"),
            ("1.0.0", "1.0.0", "1.1.0", B, false, false, "2.0.0"),
            ("1.0.0", "1.0.0", "2.0.0", B, false, true, "2.0.0"),
            ("1.0.0", "1.0.0", "2.0.0-rc.1", B, false, true, "2.0.0"),
            ("1.2.0", "1.2.0", "1.1.9", D, false, false, "1.2.1"),
            ("1.1.0", "1.1.0", "1.1.0-rc.1", D, false, false, "1.1.1"),
            // After a pre-release, its final release (or a later
            // pre-release) may make what the bump from the latest final
            // release allows: 1.0.0 → 1.1.0 is a minor bump.
            ("1.0.0", "1.1.0-rc.1", "1.1.0", D, false, true, "1.1.0"),
            ("1.0.0", "1.1.0-rc.1", "1.1.0", C, false, true, "1.1.0"),
            ("1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", C, false, true, "1.1.0"),
            ("1.0.0", "1.1.0-rc.1", "1.1.0", B, false, false, "2.0.0"),
            ("1.0.0", "1.1.0-rc.1", "2.0.0", B, false, true, "2.0.0"),
            ("1.4.2", "2.0.0-rc.1", "2.0.0", B, false, true, "2.0.0"),
            ("", "1.0.0-rc.1", "1.0.0", B, false, true, "1.0.0"),
            // The pre-release itself, like any release, never changes.
            (
                "1.0.0",
                "1.1.0-rc.1",
                "1.1.0-rc.1",
                D,
                false,
                false,
                "1.1.0",
            ),
            (
                "1.0.0",
                "1.1.0-rc.2",
                "1.1.0-rc.1",
                D,
                false,
                false,
                "1.1.0",
            ),
        ];
        for (last_final, released, current, worst, identical, passes, enough) in cases {
            let last_final = (!last_final.is_empty()).then(|| version(last_final));
            let verdict = Verdict::new(
                &version(released),
                last_final.as_ref(),
                &version(current),
                *worst,
                *identical,
            );
            let case = format!(
                "{released} (after {last_final:?}) → {current} with {worst:?} (identical: {identical}): {verdict:?}"
            );
            assert_eq!(verdict.passes(), *passes, "{case}");
            assert_eq!(verdict.enough, version(enough), "{case}");
        }
    }

    #[test]
    fn the_suggested_version_is_the_smallest_that_suffices() {
        let released = Version::parse("1.4.2").unwrap();
        assert_eq!(Bump::Major.apply(&released).to_string(), "2.0.0");
        assert_eq!(Bump::Minor.apply(&released).to_string(), "1.5.0");
        assert_eq!(Bump::Patch.apply(&released).to_string(), "1.4.3");
    }
}
