//! The rules of a write against the stored version, shared by every backend:
//! each loads the stored versions of a batch inside its write transaction,
//! asks [`plan_writes`] what to do, and writes what the plan says.

use std::collections::HashMap;

use crate::api::{RunPath, RunStatus};
use crate::etag::IfMatch;

use super::{RunRecord, StoreError};

/// What a backend knows of a stored version when it decides.
#[derive(Clone, Debug)]
pub struct ExistingRun {
    pub etag: String,
    pub status: RunStatus,
}

/// One write of a batch: a run and an optional `If-Match` condition.
#[derive(Clone, Debug)]
pub struct RunWrite {
    pub record: RunRecord,
    pub if_match: Option<IfMatch>,
}

/// What a write did.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PutOutcome {
    /// The run did not exist and was written.
    Created,
    /// The run existed and was overwritten.
    Replaced,
    /// The stored version already was this one; nothing was written.
    Unchanged,
}

/// Why a write was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum PutRejection {
    /// `If-Match` does not match the stored version (or there is none).
    #[error("precondition failed")]
    PreconditionFailed,
    /// The stored version is terminal and the new one differs.
    #[error("the run is {} and can no longer change", .0.as_str())]
    Terminal(RunStatus),
}

/// Why a single write failed.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error(transparent)]
    Rejected(#[from] PutRejection),
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
) -> Result<PutOutcome, PutRejection> {
    let Some(existing) = existing else {
        return match if_match {
            Some(_) => Err(PutRejection::PreconditionFailed),
            None => Ok(PutOutcome::Created),
        };
    };
    if if_match.is_some_and(|condition| !condition.matches(&existing.etag)) {
        return Err(PutRejection::PreconditionFailed);
    }
    if existing.etag == new_etag {
        return Ok(PutOutcome::Unchanged);
    }
    if existing.status.is_terminal() {
        return Err(PutRejection::Terminal(existing.status));
    }
    Ok(PutOutcome::Replaced)
}

/// What a batch of writes does.
#[derive(Debug)]
pub struct WritePlan<'a> {
    /// The outcome of each write, in order.
    pub outcomes: Vec<Result<PutOutcome, PutRejection>>,
    /// Runs to insert (none was stored before the batch).
    pub inserts: Vec<&'a RunRecord>,
    /// Runs to overwrite (one was stored before the batch).
    pub updates: Vec<&'a RunRecord>,
}

/// Decides each write in order against the stored versions (`existing`, by
/// path) and the writes of the batch before it; a run written several times
/// is stored once, in its last accepted version.
pub fn plan_writes<'a>(
    mut existing: HashMap<RunPath, ExistingRun>,
    writes: &'a [RunWrite],
) -> WritePlan<'a> {
    let stored_before: std::collections::HashSet<RunPath> = existing.keys().copied().collect();
    let mut last: HashMap<RunPath, &'a RunRecord> = HashMap::new();
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        let path = write.record.path;
        let outcome = decide_put(
            existing.get(&path),
            &write.record.etag,
            write.if_match.as_ref(),
        );
        if let Ok(PutOutcome::Created | PutOutcome::Replaced) = outcome {
            existing.insert(
                path,
                ExistingRun {
                    etag: write.record.etag.clone(),
                    status: write.record.status,
                },
            );
            last.insert(path, &write.record);
        }
        outcomes.push(outcome);
    }
    let (updates, inserts) = last
        .into_values()
        .partition(|record| stored_before.contains(&record.path));
    WritePlan {
        outcomes,
        inserts,
        updates,
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::api::TaskAgentRun;

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
        assert_eq!(decide_put(None, "\"b\"", None), Ok(PutOutcome::Created));
        assert_eq!(
            decide_put(None, "\"b\"", Some(&tags("*"))),
            Err(PutRejection::PreconditionFailed)
        );
        assert_eq!(
            decide_put(None, "\"b\"", Some(&tags("\"a\""))),
            Err(PutRejection::PreconditionFailed)
        );
    }

    #[test]
    fn a_running_run_is_replaced_when_the_precondition_holds() {
        let running = stored(RunStatus::Running);
        assert_eq!(
            decide_put(Some(&running), "\"b\"", None),
            Ok(PutOutcome::Replaced)
        );
        assert_eq!(
            decide_put(Some(&running), "\"b\"", Some(&tags("\"a\""))),
            Ok(PutOutcome::Replaced)
        );
        assert_eq!(
            decide_put(Some(&running), "\"b\"", Some(&tags("*"))),
            Ok(PutOutcome::Replaced)
        );
        assert_eq!(
            decide_put(Some(&running), "\"b\"", Some(&tags("\"z\""))),
            Err(PutRejection::PreconditionFailed)
        );
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
                decide_put(Some(&done), "\"a\"", None),
                Ok(PutOutcome::Unchanged)
            );
            assert_eq!(
                decide_put(Some(&done), "\"b\"", None),
                Err(PutRejection::Terminal(status))
            );
        }
    }

    #[test]
    fn the_precondition_is_checked_before_the_terminal_rule() {
        let done = stored(RunStatus::Completed);
        assert_eq!(
            decide_put(Some(&done), "\"b\"", Some(&tags("\"z\""))),
            Err(PutRejection::PreconditionFailed)
        );
    }

    fn write(path: RunPath, tokens: i64, status: RunStatus) -> RunWrite {
        let run: TaskAgentRun = serde_json::from_value(serde_json::json!({
            "id": path.run_id, "task_agent_id": path.task_agent_id, "session_id": "s", "user_id": null,
            "input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens,
            "charged_credits": null, "total_charged_credits": null, "created": "2026-01-01T00:00:00Z",
            "completed": null, "last_activity_at": null, "duration_ms": null, "status": status,
            "is_error": false, "task_agent_revision_id": null, "primary_llm_model_id": null,
            "fallback_llm_model_id": null, "invocation_id": null, "is_continuation": false,
            "used_fallback_model": false, "had_task_tool_fail": false, "had_mcp_tool_fail": false,
            "had_integration_tool_fail": false, "primary_failure_reason": null, "termination_reason": null,
            "task_tools_invoked": null, "mcp_tools_invoked": null, "integration_tools_invoked": null,
            "skills_activated": null, "phase_timings": null, "context_usage": null, "model_usages": [], "files": [],
        }))
        .unwrap();
        RunWrite {
            record: RunRecord::new(path, &run).unwrap(),
            if_match: None,
        }
    }

    #[test]
    fn a_batch_decides_each_write_after_the_ones_before_it() {
        let path = |n: u128| RunPath {
            org_id: Uuid::nil(),
            project_id: Uuid::nil(),
            task_agent_id: Uuid::nil(),
            run_id: Uuid::from_u128(n),
        };
        let stored_running = write(path(1), 1, RunStatus::Running);
        let existing = HashMap::from([(
            path(1),
            ExistingRun {
                etag: stored_running.record.etag.clone(),
                status: RunStatus::Running,
            },
        )]);
        let writes = vec![
            write(path(1), 2, RunStatus::Running),
            write(path(2), 1, RunStatus::Pending),
            write(path(2), 2, RunStatus::Cancelled),
            write(path(2), 3, RunStatus::Running),
            write(path(2), 2, RunStatus::Cancelled),
        ];
        let plan = plan_writes(existing, &writes);
        assert_eq!(
            plan.outcomes,
            [
                Ok(PutOutcome::Replaced),
                Ok(PutOutcome::Created),
                Ok(PutOutcome::Replaced),
                Err(PutRejection::Terminal(RunStatus::Cancelled)),
                Ok(PutOutcome::Unchanged),
            ]
        );
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].etag, writes[0].record.etag);
        assert_eq!(plan.inserts.len(), 1);
        assert_eq!(
            plan.inserts[0].etag, writes[2].record.etag,
            "the last accepted version is written"
        );
    }
}
