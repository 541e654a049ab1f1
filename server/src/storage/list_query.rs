//! The keyset-paginated list query, written once for every backend.
//!
//! The query seeks into the index on `(org_id, project_id, task_agent_id,
//! created_sec DESC, created_nsec DESC, run_id DESC)` at the cursor's
//! position, so a page deep in
//! the list costs what the first page costs. Filters only skip rows.

use uuid::Uuid;

use crate::api::TaskAgentPath;

use super::{Position, RunFilter, Timestamp};

/// A value bound to a placeholder; each backend maps it to its own types.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Uuid(Uuid),
    Int(i64),
    Text(String),
    Bool(bool),
}

/// The SQL and its parameters. `placeholder(n)` spells the n-th (1-based)
/// placeholder in the backend's dialect.
pub fn list_query(
    task_agent: &TaskAgentPath,
    filter: &RunFilter,
    after: Option<Position>,
    limit: usize,
    placeholder: fn(usize) -> String,
) -> (String, Vec<SqlValue>) {
    let mut params = Vec::new();
    let mut bind = |value: SqlValue| {
        params.push(value);
        placeholder(params.len())
    };
    let mut sql = format!(
        "SELECT created_sec, created_nsec, run_id, body FROM task_agent_runs \
         WHERE org_id = {} AND project_id = {} AND task_agent_id = {}",
        bind(SqlValue::Uuid(task_agent.org_id)),
        bind(SqlValue::Uuid(task_agent.project_id)),
        bind(SqlValue::Uuid(task_agent.task_agent_id)),
    );
    let mut condition = |column: &str, operator: &str, value: Option<SqlValue>| {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} {operator} {}", bind(value)));
        }
    };
    condition(
        "session_id",
        "=",
        filter.session_id.clone().map(SqlValue::Text),
    );
    condition("is_error", "=", filter.is_error.map(SqlValue::Bool));
    condition(
        "had_task_tool_fail",
        "=",
        filter.had_task_tool_fail.map(SqlValue::Bool),
    );
    condition(
        "had_mcp_tool_fail",
        "=",
        filter.had_mcp_tool_fail.map(SqlValue::Bool),
    );
    condition(
        "status",
        "=",
        filter.status.map(|s| SqlValue::Text(s.as_str().to_owned())),
    );
    condition(
        "duration_ms",
        ">=",
        filter.min_duration_ms.map(SqlValue::Int),
    );
    condition(
        "task_agent_revision_id",
        "=",
        filter.task_agent_revision_id.map(SqlValue::Uuid),
    );
    let mut created = |operator: &str, bound: Option<Timestamp>| {
        if let Some(bound) = bound {
            let seconds = bind(SqlValue::Int(bound.seconds));
            let nanos = bind(SqlValue::Int(i64::from(bound.nanos)));
            sql.push_str(&format!(
                " AND (created_sec, created_nsec) {operator} ({seconds}, {nanos})"
            ));
        }
    };
    created(">=", filter.created_from);
    created("<", filter.created_before);
    if let Some(after) = after {
        let seconds = bind(SqlValue::Int(after.created.seconds));
        let nanos = bind(SqlValue::Int(i64::from(after.created.nanos)));
        let run_id = bind(SqlValue::Uuid(after.run_id));
        sql.push_str(&format!(
            " AND (created_sec, created_nsec, run_id) < ({seconds}, {nanos}, {run_id})"
        ));
    }
    let limit = bind(SqlValue::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    sql.push_str(&format!(
        " ORDER BY created_sec DESC, created_nsec DESC, run_id DESC LIMIT {limit}"
    ));
    (sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RunStatus;

    #[test]
    fn filters_and_the_cursor_become_conditions_in_order() {
        let task_agent = TaskAgentPath {
            org_id: Uuid::nil(),
            project_id: Uuid::nil(),
            task_agent_id: Uuid::nil(),
        };
        let filter = RunFilter {
            status: Some(RunStatus::Failed),
            min_duration_ms: Some(5),
            created_before: Some(Timestamp {
                seconds: 9,
                nanos: 1,
            }),
            ..Default::default()
        };
        let after = Position {
            created: Timestamp {
                seconds: 7,
                nanos: 8,
            },
            run_id: Uuid::max(),
        };
        let (sql, params) = list_query(&task_agent, &filter, Some(after), 11, |n| format!("${n}"));
        assert!(
            sql.contains(
                "AND status = $4 AND duration_ms >= $5 AND (created_sec, created_nsec) < ($6, $7) \
                 AND (created_sec, created_nsec, run_id) < ($8, $9, $10)"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY created_sec DESC, created_nsec DESC, run_id DESC LIMIT $11"),
            "{sql}"
        );
        assert_eq!(params[3], SqlValue::Text("failed".into()));
        assert_eq!(
            params[5..],
            [
                SqlValue::Int(9),
                SqlValue::Int(1),
                SqlValue::Int(7),
                SqlValue::Int(8),
                SqlValue::Uuid(Uuid::max()),
                SqlValue::Int(11)
            ]
        );
    }
}
