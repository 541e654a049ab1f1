//! Migration 4: stored runs cut to the millisecond.
//!
//! From contract 2.0.0 the server keeps timestamps to the millisecond (see
//! `api::timestamps`). Runs stored before kept finer digits, and so an ETag
//! that a repeated write of the same run, cut, no longer matched: a finished
//! run repeated exactly was refused (409). The migration rewrites each such
//! run as this server writes it; the backends page through the table and
//! write back what [`at_the_millisecond`] returns.

use serde_json::Value;

use super::RunRecord;
use crate::api::{RunPath, TaskAgentRun, TaskAgentRunWrite};

/// The schema version of the migration; its SQL file only marks it.
pub const VERSION: i64 = 4;

/// How many runs a step of the migration reads at once.
pub const BATCH: i64 = 500;

/// The run stored at `path` as `body`, written as this server writes it
/// (its timestamps cut to the millisecond): the record to store instead,
/// or `None` if that is what is stored.
pub fn at_the_millisecond(path: RunPath, body: &str) -> anyhow::Result<Option<RunRecord>> {
    let mut fields: serde_json::Map<String, Value> = serde_json::from_str(body)?;
    // What a write does not carry: they come from the path.
    fields.remove("id");
    fields.remove("task_agent_id");
    let write: TaskAgentRunWrite = serde_json::from_value(Value::Object(fields))?;
    let run = TaskAgentRun::from_write(path.run_id, path.task_agent_id, write);
    let record = RunRecord::new(path, &run)?;
    Ok((record.run.json() != body).then_some(record))
}
