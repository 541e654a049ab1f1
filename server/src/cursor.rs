//! Opaque list cursors.
//!
//! A cursor holds the position of the last run of a page and a check value
//! over that position and the list it belongs to (the task agent and the
//! filters). Any change to the text, or use with other filters, fails the
//! check, so a cursor can neither be forged into another position nor
//! replayed against another query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::TaskAgentPath;
use crate::storage::{Position, RunFilter, Timestamp};

const VERSION: u8 = 1;
const CHECK_BYTES: usize = 8;
const PAYLOAD_BYTES: usize = 1 + 8 + 4 + 16;

/// A cursor that is corrupt or was issued for another list.
#[derive(Debug, thiserror::Error)]
#[error("corrupt, or issued for other filters")]
pub struct InvalidCursor;

/// Identifies one list (a task agent and its filters) for cursor checks.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ListIdentity([u8; 32]);

impl ListIdentity {
    /// The identity of the runs of `task_agent` that pass `filter`.
    pub fn new(task_agent: &TaskAgentPath, filter: &RunFilter) -> ListIdentity {
        // Each field is written with a tag and a length, so that no two
        // different lists can produce the same input.
        let RunFilter {
            session_id,
            is_error,
            had_task_tool_fail,
            had_mcp_tool_fail,
            status,
            created_from,
            created_before,
            min_duration_ms,
            task_agent_revision_id,
        } = filter;
        let mut hasher = Sha256::new();
        let mut field = |tag: &str, value: Option<String>| {
            let value = value.unwrap_or_default();
            hasher.update(format!("{tag}:{}:{value};", value.len()));
        };
        field("org", Some(task_agent.org_id.to_string()));
        field("project", Some(task_agent.project_id.to_string()));
        field("task_agent", Some(task_agent.task_agent_id.to_string()));
        field("session_id", session_id.clone());
        field("is_error", is_error.map(|v| v.to_string()));
        field(
            "had_task_tool_fail",
            had_task_tool_fail.map(|v| v.to_string()),
        );
        field(
            "had_mcp_tool_fail",
            had_mcp_tool_fail.map(|v| v.to_string()),
        );
        field("status", status.map(|v| v.as_str().to_owned()));
        let instant = |t: &Timestamp| format!("{}.{:09}", t.seconds, t.nanos);
        field("created_from", created_from.as_ref().map(instant));
        field("created_before", created_before.as_ref().map(instant));
        field("min_duration_ms", min_duration_ms.map(|v| v.to_string()));
        field(
            "task_agent_revision_id",
            task_agent_revision_id.map(|v| v.to_string()),
        );
        ListIdentity(hasher.finalize().into())
    }
}

fn check(payload: &[u8], list: &ListIdentity) -> [u8; CHECK_BYTES] {
    let digest = Sha256::new()
        .chain_update(payload)
        .chain_update(list.0)
        .finalize();
    digest[..CHECK_BYTES]
        .try_into()
        .expect("SHA-256 is longer than the check")
}

/// The cursor that continues `list` after `position`.
pub fn encode(position: Position, list: &ListIdentity) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + CHECK_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&position.created.seconds.to_be_bytes());
    bytes.extend_from_slice(&position.created.nanos.to_be_bytes());
    bytes.extend_from_slice(position.run_id.as_bytes());
    let check = check(&bytes, list);
    bytes.extend_from_slice(&check);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The position a cursor of `list` continues after.
pub fn decode(cursor: &str, list: &ListIdentity) -> Result<Position, InvalidCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    if bytes.len() != PAYLOAD_BYTES + CHECK_BYTES || bytes[0] != VERSION {
        return Err(InvalidCursor);
    }
    let (payload, given) = bytes.split_at(PAYLOAD_BYTES);
    if check(payload, list) != given {
        return Err(InvalidCursor);
    }
    let seconds = i64::from_be_bytes(payload[1..9].try_into().expect("8 bytes"));
    let nanos = u32::from_be_bytes(payload[9..13].try_into().expect("4 bytes"));
    let run_id = Uuid::from_slice(&payload[13..29]).expect("16 bytes");
    Ok(Position {
        created: Timestamp { seconds, nanos },
        run_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(status: Option<crate::api::RunStatus>) -> ListIdentity {
        let task_agent = TaskAgentPath {
            org_id: Uuid::nil(),
            project_id: Uuid::nil(),
            task_agent_id: Uuid::max(),
        };
        ListIdentity::new(
            &task_agent,
            &RunFilter {
                status,
                ..Default::default()
            },
        )
    }

    #[test]
    fn a_cursor_round_trips() {
        let position = Position {
            created: Timestamp {
                seconds: -5,
                nanos: 999_999_999,
            },
            run_id: Uuid::new_v4(),
        };
        assert_eq!(
            decode(&encode(position, &list(None)), &list(None)).unwrap(),
            position
        );
    }

    #[test]
    fn a_cursor_is_bound_to_its_filters() {
        let cursor = encode(
            Position {
                created: Timestamp {
                    seconds: 1,
                    nanos: 0,
                },
                run_id: Uuid::nil(),
            },
            &list(None),
        );
        assert!(decode(&cursor, &list(Some(crate::api::RunStatus::Failed))).is_err());
    }

    #[test]
    fn garbage_is_rejected() {
        for garbage in ["", "abc", "!!!!", &"A".repeat(44)] {
            assert!(decode(garbage, &list(None)).is_err(), "{garbage:?}");
        }
    }
}
