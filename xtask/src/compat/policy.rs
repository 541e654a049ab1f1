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

    /// The bump from `released` to `current`, or `None` when `current` is
    /// older. Only the numbers count: a pre-release of the same numbers is
    /// no bump.
    pub fn between(released: &Version, current: &Version) -> Option<Bump> {
        if current < released {
            return None;
        }
        let numbers = |v: &Version| (v.major, v.minor, v.patch);
        let (old, new) = (numbers(released), numbers(current));
        Some(if new.0 > old.0 {
            Bump::Major
        } else if new.1 > old.1 {
            Bump::Minor
        } else if new.2 > old.2 {
            Bump::Patch
        } else {
            Bump::None
        })
    }

    /// The smallest version after `released` that makes this bump.
    pub fn apply(self, released: &Version) -> Version {
        let (major, minor, patch) = (released.major, released.minor, released.patch);
        match self {
            Bump::None => released.clone(),
            Bump::Patch => Version::new(major, minor, patch + 1),
            Bump::Minor => Version::new(major, minor + 1, 0),
            Bump::Major => Version::new(major + 1, 0, 0),
        }
    }
}

/// The bump the changes need and the one `info.version` makes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    pub needed: Bump,
    /// `None` when the current version is older than the released one.
    pub made: Option<Bump>,
}

impl Verdict {
    pub fn new(
        released: &Version,
        current: &Version,
        worst: Option<Impact>,
        identical: bool,
    ) -> Verdict {
        Verdict {
            needed: Bump::needed(worst, identical),
            made: Bump::between(released, current),
        }
    }

    pub fn passes(&self) -> bool {
        self.made.is_some_and(|made| made >= self.needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(released, current, worst change, identical text, passes)`.
    #[test]
    fn each_kind_of_change_needs_its_bump() {
        use Impact::{Breaking, Compatible, Documentation};
        let cases: &[(&str, &str, Option<Impact>, bool, bool)] = &[
            ("1.0.0", "1.0.0", None, true, true),
            ("1.0.0", "1.0.0", None, false, false),
            ("1.0.0", "1.0.1", None, false, true),
            ("1.0.0", "1.0.0", Some(Documentation), false, false),
            ("1.0.0", "1.0.1", Some(Documentation), false, true),
            ("1.0.0", "1.0.1", Some(Compatible), false, false),
            ("1.0.0", "1.1.0", Some(Compatible), false, true),
            ("1.0.0", "2.0.0", Some(Compatible), false, true),
            ("1.0.0", "1.1.0", Some(Breaking), false, false),
            ("1.0.0", "2.0.0", Some(Breaking), false, true),
            ("1.0.0", "2.0.0-rc.1", Some(Breaking), false, true),
            ("1.2.0", "1.1.9", Some(Documentation), false, false),
            ("1.1.0", "1.1.0-rc.1", Some(Documentation), false, false),
            ("1.1.0-rc.1", "1.1.0", Some(Documentation), false, false),
        ];
        for (released, current, worst, identical, passes) in cases {
            let verdict = Verdict::new(
                &Version::parse(released).unwrap(),
                &Version::parse(current).unwrap(),
                *worst,
                *identical,
            );
            assert_eq!(
                verdict.passes(),
                *passes,
                "{released} → {current} with {worst:?} (identical: {identical}): {verdict:?}"
            );
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
