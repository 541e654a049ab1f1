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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::api::RunStatus;

    fn position() -> impl Strategy<Value = Position> {
        (any::<i64>(), 0..1_000_000_000u32, any::<u128>()).prop_map(|(seconds, nanos, id)| {
            Position {
                created: Timestamp { seconds, nanos },
                run_id: Uuid::from_u128(id),
            }
        })
    }

    fn list() -> impl Strategy<Value = ListIdentity> {
        (
            any::<u128>(),
            proptest::option::of("[a-z0-9-]{0,12}"),
            proptest::option::of(0..5usize),
            any::<Option<bool>>(),
        )
            .prop_map(|(agent, session_id, status, is_error)| {
                let task_agent = TaskAgentPath {
                    org_id: Uuid::nil(),
                    project_id: Uuid::nil(),
                    task_agent_id: Uuid::from_u128(agent),
                };
                let filter = RunFilter {
                    session_id,
                    status: status.map(|i| RunStatus::ALL[i]),
                    is_error,
                    ..Default::default()
                };
                ListIdentity::new(&task_agent, &filter)
            })
    }

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #[test]
        fn every_cursor_decodes_to_its_position(position in position(), list in list()) {
            prop_assert_eq!(decode(&encode(position, &list), &list).unwrap(), position);
        }

        #[test]
        fn every_changed_character_is_detected(
            position in position(),
            list in list(),
            index in any::<prop::sample::Index>(),
            replacement in any::<prop::sample::Index>(),
        ) {
            let cursor = encode(position, &list);
            let mut bytes = cursor.clone().into_bytes();
            let at = index.index(bytes.len());
            let new = ALPHABET[replacement.index(ALPHABET.len())];
            prop_assume!(bytes[at] != new);
            bytes[at] = new;
            prop_assert!(decode(&String::from_utf8(bytes).unwrap(), &list).is_err());
        }

        #[test]
        fn truncated_or_extended_cursors_are_rejected(
            position in position(),
            list in list(),
            cut in any::<prop::sample::Index>(),
            extra in "[A-Za-z0-9_-]{1,4}",
        ) {
            let cursor = encode(position, &list);
            let truncated = &cursor[..cut.index(cursor.len())];
            prop_assert!(decode(truncated, &list).is_err());
            let extended = cursor.clone() + &extra;
            prop_assert!(decode(&extended, &list).is_err());
        }

        #[test]
        fn a_cursor_is_rejected_by_any_other_list(position in position(), a in list(), b in list()) {
            prop_assume!(a != b);
            prop_assert!(decode(&encode(position, &a), &b).is_err());
        }
    }
}
