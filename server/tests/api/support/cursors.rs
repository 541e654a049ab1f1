//! Cursors made outside the server, as a client who knows the format (it is
//! open source) but not the server's key would make them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use task_agent_server::storage::Position;

use super::Agent;

/// A cursor that continues the unfiltered list of `agent` after `position`,
/// checked the way cursors were before they were keyed (version 1): with a
/// SHA-256 of the position and of the list, which anyone can compute.
pub fn unkeyed_cursor(agent: &Agent, position: Position) -> String {
    // The list's identity: each field as `tag:length:value;`, filters empty.
    let mut list = Sha256::new();
    for (tag, value) in [
        ("org", agent.org.to_string()),
        ("project", agent.project.to_string()),
        ("task_agent", agent.task_agent.to_string()),
    ] {
        list.update(format!("{tag}:{}:{value};", value.len()));
    }
    for tag in [
        "session_id",
        "is_error",
        "had_task_tool_fail",
        "had_mcp_tool_fail",
        "status",
        "created_from",
        "created_before",
        "min_duration_ms",
        "task_agent_revision_id",
    ] {
        list.update(format!("{tag}:0:;"));
    }
    let mut bytes = vec![1];
    bytes.extend_from_slice(&position.created.seconds.to_be_bytes());
    bytes.extend_from_slice(&position.created.nanos.to_be_bytes());
    bytes.extend_from_slice(position.run_id.as_bytes());
    let check = Sha256::new()
        .chain_update(&bytes)
        .chain_update(list.finalize())
        .finalize();
    bytes.extend_from_slice(&check[..8]);
    URL_SAFE_NO_PAD.encode(bytes)
}
