//! The rules of a `PUT` against the stored version, shared by every backend
//! (each calls [`decide_put`] inside its write transaction).

use crate::api::RunStatus;
use crate::etag::IfMatch;

use super::StoreError;

/// What a backend knows of the stored version when it decides.
#[derive(Clone, Debug)]
pub struct ExistingRun {
    pub etag: String,
    pub status: RunStatus,
}

/// What a `PUT` did.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PutOutcome {
    /// The run did not exist and was written.
    Created,
    /// The run existed and was overwritten.
    Replaced,
    /// The stored version already was this one; nothing was written.
    Unchanged,
}

/// Why a `PUT` was refused.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// `If-Match` does not match the stored version (or there is none).
    #[error("precondition failed")]
    PreconditionFailed,
    /// The stored version is terminal and the new one differs.
    #[error("the run is {} and can no longer change", .0.as_str())]
    Terminal(RunStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decides a write of a version with `new_etag` over `existing`.
///
/// The precondition is evaluated first (RFC 9110 §13.2.2). Repeating the
/// stored version is always accepted and writes nothing, so a writer may
/// safely retry a `PUT` whose response it lost, even of a finished run.
pub fn decide_put(
    existing: Option<&ExistingRun>,
    new_etag: &str,
    if_match: Option<&IfMatch>,
) -> Result<PutOutcome, PutError> {
    let Some(existing) = existing else {
        return match if_match {
            Some(_) => Err(PutError::PreconditionFailed),
            None => Ok(PutOutcome::Created),
        };
    };
    if if_match.is_some_and(|condition| !condition.matches(&existing.etag)) {
        return Err(PutError::PreconditionFailed);
    }
    if existing.etag == new_etag {
        return Ok(PutOutcome::Unchanged);
    }
    if existing.status.is_terminal() {
        return Err(PutError::Terminal(existing.status));
    }
    Ok(PutOutcome::Replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(status: RunStatus) -> ExistingRun {
        ExistingRun {
            etag: "\"a\"".to_owned(),
            status,
        }
    }

    fn tags(value: &str) -> IfMatch {
        IfMatch::parse(value).unwrap()
    }

    #[test]
    fn a_new_run_is_created_unless_a_precondition_expects_one() {
        assert_eq!(
            decide_put(None, "\"b\"", None).unwrap(),
            PutOutcome::Created
        );
        assert!(matches!(
            decide_put(None, "\"b\"", Some(&tags("*"))),
            Err(PutError::PreconditionFailed)
        ));
        assert!(matches!(
            decide_put(None, "\"b\"", Some(&tags("\"a\""))),
            Err(PutError::PreconditionFailed)
        ));
    }

    #[test]
    fn a_running_run_is_replaced_when_the_precondition_holds() {
        let running = stored(RunStatus::Running);
        assert_eq!(
            decide_put(Some(&running), "\"b\"", None).unwrap(),
            PutOutcome::Replaced
        );
        assert_eq!(
            decide_put(Some(&running), "\"b\"", Some(&tags("\"a\""))).unwrap(),
            PutOutcome::Replaced
        );
        assert_eq!(
            decide_put(Some(&running), "\"b\"", Some(&tags("*"))).unwrap(),
            PutOutcome::Replaced
        );
        assert!(matches!(
            decide_put(Some(&running), "\"b\"", Some(&tags("\"z\""))),
            Err(PutError::PreconditionFailed)
        ));
    }

    #[test]
    fn a_terminal_run_accepts_only_its_own_version() {
        for status in [
            RunStatus::Completed,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ] {
            let done = stored(status);
            assert_eq!(
                decide_put(Some(&done), "\"a\"", None).unwrap(),
                PutOutcome::Unchanged
            );
            assert!(
                matches!(decide_put(Some(&done), "\"b\"", None), Err(PutError::Terminal(s)) if s == status)
            );
        }
    }

    #[test]
    fn the_precondition_is_checked_before_the_terminal_rule() {
        let done = stored(RunStatus::Completed);
        assert!(matches!(
            decide_put(Some(&done), "\"b\"", Some(&tags("\"z\""))),
            Err(PutError::PreconditionFailed)
        ));
    }
}
