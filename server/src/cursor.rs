//! Opaque list cursors.
//!
//! A cursor carries the position a list continues after (the `created`
//! instant and the id of the last run of a page), the id of the key it was
//! issued under, and an HMAC-SHA256 tag over all of that and over the list
//! it belongs to (the task agent and the filters). The key is a secret that
//! every replica shares, kept in the database (see
//! [`crate::storage::CursorKeyStore`] and [`CursorKeyHolder`]). Without it,
//! nobody can make a cursor for another position, change one, or use one
//! with another list: each fails the check and is refused (422). A cursor
//! issued under a key that has since been rotated is refused too, with its
//! own message, since its tag can no longer be checked.
//!
//! What a cursor does not do: it grants nothing (every page is authorized
//! again, as any request is, so a cursor is only as good as its holder's
//! membership), and it hides nothing (it is not encrypted: anyone can read
//! the position, the instant and the id of a run its holder was shown).

mod key_holder;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::TaskAgentPath;
use crate::error::ApiError;
use crate::storage::{Position, RunFilter, Timestamp};

pub use key_holder::{CursorKeyHolder, REFRESH_EVERY};

/// The format: version 1 had an unkeyed check, and is refused.
const VERSION: u8 = 2;
/// Version, key id, seconds, nanoseconds, run id.
const PAYLOAD_BYTES: usize = 1 + 4 + 8 + 4 + 16;
/// The HMAC-SHA256 tag cut to 128 bits: a forger still needs about 2^128
/// tries (each one a request), and the cursor stays short.
const TAG_BYTES: usize = 16;

/// Why a cursor is refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this server made for this list: damaged, forged, of an
    /// old format, or issued for another task agent or other filters.
    #[error("corrupt, or issued for other filters")]
    Invalid,
    /// Made under a key that has since been replaced.
    #[error("issued before the server's cursor key was rotated; start again from the first page")]
    Rotated,
}

impl From<CursorError> for ApiError {
    fn from(error: CursorError) -> ApiError {
        ApiError::invalid("cursor", error.to_string())
    }
}

/// The key that signs and checks cursors.
pub struct CursorKey {
    id: u32,
    hmac: hmac::Key,
}

impl CursorKey {
    /// The key `id`, with its `secret`.
    pub fn new(id: u32, secret: &[u8]) -> CursorKey {
        CursorKey {
            id,
            hmac: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// Which key this is (rotation makes the next).
    pub fn id(&self) -> u32 {
        self.id
    }

    fn tag(&self, payload: &[u8], list: &ListIdentity) -> [u8; TAG_BYTES] {
        let mut context = hmac::Context::with_key(&self.hmac);
        context.update(payload);
        context.update(&list.0);
        context.sign().as_ref()[..TAG_BYTES]
            .try_into()
            .expect("HMAC-SHA256 is longer than the tag")
    }
}

// The secret stays out of logs.
impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorKey").field("id", &self.id).finish()
    }
}

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

/// The cursor that continues `list` after `position`, under `key`.
pub fn encode(position: Position, list: &ListIdentity, key: &CursorKey) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + TAG_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&key.id.to_be_bytes());
    bytes.extend_from_slice(&position.created.seconds.to_be_bytes());
    bytes.extend_from_slice(&position.created.nanos.to_be_bytes());
    bytes.extend_from_slice(position.run_id.as_bytes());
    let tag = key.tag(&bytes, list);
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A cursor as a client sent it: of this format, not yet checked.
pub struct Cursor {
    bytes: [u8; PAYLOAD_BYTES + TAG_BYTES],
}

impl Cursor {
    /// Reads `text`, refusing what is not a cursor of this format.
    pub fn parse(text: &str) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CursorError::Invalid)?;
        let bytes: [u8; PAYLOAD_BYTES + TAG_BYTES] =
            bytes.try_into().map_err(|_| CursorError::Invalid)?;
        if bytes[0] != VERSION {
            return Err(CursorError::Invalid);
        }
        Ok(Cursor { bytes })
    }

    /// The id of the key the cursor claims to be issued under (unchecked:
    /// it says which key to check it with).
    pub fn key_id(&self) -> u32 {
        u32::from_be_bytes(self.bytes[1..5].try_into().expect("4 bytes"))
    }

    /// The position the cursor continues `list` after, if `key` issued it
    /// for `list`.
    pub fn verify(&self, list: &ListIdentity, key: &CursorKey) -> Result<Position, CursorError> {
        // The old key is gone, so the tag cannot be checked; the message
        // tells a client what to do, and a forger gains nothing from it.
        if self.key_id() < key.id {
            return Err(CursorError::Rotated);
        }
        let (payload, tag) = self.bytes.split_at(PAYLOAD_BYTES);
        if self.key_id() != key.id || verify_slices_are_equal(&key.tag(payload, list), tag).is_err()
        {
            return Err(CursorError::Invalid);
        }
        let seconds = i64::from_be_bytes(payload[5..13].try_into().expect("8 bytes"));
        let nanos = u32::from_be_bytes(payload[13..17].try_into().expect("4 bytes"));
        let run_id = Uuid::from_slice(&payload[17..33]).expect("16 bytes");
        Ok(Position {
            created: Timestamp { seconds, nanos },
            run_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RunStatus;

    pub(super) fn decode(
        text: &str,
        list: &ListIdentity,
        key: &CursorKey,
    ) -> Result<Position, CursorError> {
        Cursor::parse(text)?.verify(list, key)
    }

    fn list(status: Option<RunStatus>) -> ListIdentity {
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

    fn key(id: u32) -> CursorKey {
        CursorKey::new(id, &[7; 32])
    }

    fn position() -> Position {
        Position {
            created: Timestamp {
                seconds: -5,
                nanos: 999_999_999,
            },
            run_id: Uuid::new_v4(),
        }
    }

    #[test]
    fn a_cursor_round_trips() {
        let position = position();
        let cursor = encode(position, &list(None), &key(1));
        assert_eq!(Cursor::parse(&cursor).unwrap().key_id(), 1);
        assert_eq!(decode(&cursor, &list(None), &key(1)).unwrap(), position);
    }

    #[test]
    fn a_cursor_is_bound_to_its_filters() {
        let cursor = encode(position(), &list(None), &key(1));
        assert_eq!(
            decode(&cursor, &list(Some(RunStatus::Failed)), &key(1)),
            Err(CursorError::Invalid)
        );
    }

    #[test]
    fn a_cursor_is_bound_to_its_secret() {
        let cursor = encode(position(), &list(None), &key(1));
        let other = CursorKey::new(1, &[8; 32]);
        assert_eq!(
            decode(&cursor, &list(None), &other),
            Err(CursorError::Invalid)
        );
    }

    #[test]
    fn a_cursor_of_a_rotated_key_is_refused_as_such() {
        let cursor = encode(position(), &list(None), &key(1));
        assert_eq!(
            decode(&cursor, &list(None), &key(2)),
            Err(CursorError::Rotated)
        );
        let newer = encode(position(), &list(None), &key(3));
        assert_eq!(
            decode(&newer, &list(None), &key(2)),
            Err(CursorError::Invalid),
            "a key the server does not have"
        );
    }

    /// What anyone could compute before cursors were keyed: the check was a
    /// SHA-256 of the cursor and of the list.
    #[test]
    fn cursors_checked_without_the_key_are_refused() {
        let position = position();
        let mut unkeyed = vec![1];
        unkeyed.extend_from_slice(&position.created.seconds.to_be_bytes());
        unkeyed.extend_from_slice(&position.created.nanos.to_be_bytes());
        unkeyed.extend_from_slice(position.run_id.as_bytes());
        let check = Sha256::new()
            .chain_update(&unkeyed)
            .chain_update(list(None).0)
            .finalize();
        unkeyed.extend_from_slice(&check[..8]);
        let version_1 = URL_SAFE_NO_PAD.encode(&unkeyed);
        assert_eq!(
            decode(&version_1, &list(None), &key(1)),
            Err(CursorError::Invalid)
        );

        let mut payload = vec![VERSION];
        payload.extend_from_slice(&1_u32.to_be_bytes());
        payload.extend_from_slice(&unkeyed[1..29]);
        let check = Sha256::new()
            .chain_update(&payload)
            .chain_update(list(None).0)
            .finalize();
        payload.extend_from_slice(&check[..TAG_BYTES]);
        let version_2 = URL_SAFE_NO_PAD.encode(&payload);
        assert_eq!(
            decode(&version_2, &list(None), &key(1)),
            Err(CursorError::Invalid)
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for garbage in ["", "abc", "!!!!", &"A".repeat(44), &"A".repeat(66)] {
            assert!(
                decode(garbage, &list(None), &key(0)).is_err(),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        assert_eq!(format!("{:?}", key(3)), "CursorKey { id: 3 }");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::tests::decode;
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

    fn key() -> impl Strategy<Value = CursorKey> {
        (any::<u32>(), any::<[u8; 32]>()).prop_map(|(id, secret)| CursorKey::new(id, &secret))
    }

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #[test]
        fn every_cursor_decodes_to_its_position(
            position in position(),
            list in list(),
            key in key(),
        ) {
            prop_assert_eq!(decode(&encode(position, &list, &key), &list, &key).unwrap(), position);
        }

        #[test]
        fn every_changed_character_is_detected(
            position in position(),
            list in list(),
            key in key(),
            index in any::<prop::sample::Index>(),
            replacement in any::<prop::sample::Index>(),
        ) {
            let cursor = encode(position, &list, &key);
            let mut bytes = cursor.clone().into_bytes();
            let at = index.index(bytes.len());
            let new = ALPHABET[replacement.index(ALPHABET.len())];
            prop_assume!(bytes[at] != new);
            bytes[at] = new;
            prop_assert!(decode(&String::from_utf8(bytes).unwrap(), &list, &key).is_err());
        }

        #[test]
        fn truncated_or_extended_cursors_are_rejected(
            position in position(),
            list in list(),
            key in key(),
            cut in any::<prop::sample::Index>(),
            extra in "[A-Za-z0-9_-]{1,4}",
        ) {
            let cursor = encode(position, &list, &key);
            let truncated = &cursor[..cut.index(cursor.len())];
            prop_assert!(decode(truncated, &list, &key).is_err());
            let extended = cursor.clone() + &extra;
            prop_assert!(decode(&extended, &list, &key).is_err());
        }

        #[test]
        fn a_cursor_is_rejected_by_any_other_list(
            position in position(),
            a in list(),
            b in list(),
            key in key(),
        ) {
            prop_assume!(a != b);
            prop_assert_eq!(decode(&encode(position, &a, &key), &b, &key), Err(CursorError::Invalid));
        }

        #[test]
        fn a_cursor_is_rejected_under_any_other_secret(
            position in position(),
            list in list(),
            id in any::<u32>(),
            secret in any::<[u8; 32]>(),
            other in any::<[u8; 32]>(),
        ) {
            prop_assume!(secret != other);
            let cursor = encode(position, &list, &CursorKey::new(id, &secret));
            prop_assert_eq!(
                decode(&cursor, &list, &CursorKey::new(id, &other)),
                Err(CursorError::Invalid)
            );
        }

        #[test]
        fn a_cursor_is_rejected_under_any_other_key_id(
            position in position(),
            list in list(),
            secret in any::<[u8; 32]>(),
            issued in any::<u32>(),
            current in any::<u32>(),
        ) {
            prop_assume!(issued != current);
            let cursor = encode(position, &list, &CursorKey::new(issued, &secret));
            let expected = if issued < current { CursorError::Rotated } else { CursorError::Invalid };
            prop_assert_eq!(decode(&cursor, &list, &CursorKey::new(current, &secret)), Err(expected));
        }
    }
}
