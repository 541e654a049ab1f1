//! What the operations do, apart from HTTP and auth: read a run, list runs,
//! write a run. The handlers, the demo and the importer all go through here,
//! so every write passes the same rules.

use crate::api::{
    MAX_PAGE_LIMIT, Pagination, RunListQuery, RunPath, TaskAgentPath, TaskAgentRun,
    TaskAgentRunPage, TaskAgentRunWrite,
};
use crate::cursor::{self, Cursor, CursorKeyHolder, ListIdentity};
use crate::error::ApiError;
use crate::etag::IfMatch;
use crate::storage::{PutOutcome, RunFilter, RunRecord, RunStore, RunWrite, StoredRun};
use crate::validation::validate_run;

/// The run at `path`.
pub async fn get_run(store: &dyn RunStore, path: &RunPath) -> Result<StoredRun, ApiError> {
    store.get_run(path).await?.ok_or(ApiError::NotFound)
}

/// One page of the runs of `task_agent`; its cursors are checked and made
/// with the key of `cursor_keys`.
pub async fn list_runs(
    store: &dyn RunStore,
    cursor_keys: &CursorKeyHolder,
    task_agent: &TaskAgentPath,
    query: RunListQuery,
) -> Result<TaskAgentRunPage, ApiError> {
    let page_limit = query.page_limit;
    if !(1..=MAX_PAGE_LIMIT).contains(&page_limit) {
        return Err(ApiError::invalid(
            "page_limit",
            format!("must be between 1 and {MAX_PAGE_LIMIT}, got {page_limit}"),
        ));
    }
    if let Some(min) = query.min_duration_ms.filter(|min| *min < 0) {
        return Err(ApiError::invalid(
            "min_duration_ms",
            format!("must be at least 0, got {min}"),
        ));
    }
    if let (Some(after), Some(before)) = (query.created_after, query.created_before)
        && after > before
    {
        return Err(ApiError::invalid(
            "created_after",
            format!(
                "must not be later than created_before ({} > {})",
                after.to_rfc3339(),
                before.to_rfc3339()
            ),
        ));
    }
    let filter = RunFilter {
        session_id: query.session_id,
        is_error: query.is_error,
        had_task_tool_fail: query.had_task_tool_fail,
        had_mcp_tool_fail: query.had_mcp_tool_fail,
        status: query.status,
        created_from: query.created_after.map(Into::into),
        created_before: query.created_before.map(Into::into),
        min_duration_ms: query.min_duration_ms,
        task_agent_revision_id: query.task_agent_revision_id,
    };
    let list = ListIdentity::new(task_agent, &filter);
    // No stored session contains NUL (PUT refuses it), and databases cannot
    // compare text with one.
    if filter
        .session_id
        .as_deref()
        .is_some_and(|session| session.contains('\0'))
    {
        return Ok(TaskAgentRunPage {
            results: Vec::new(),
            pagination: Pagination {
                next_cursor: None,
                has_next: false,
                page_limit,
            },
        });
    }
    let cursor = query.cursor.as_deref().map(Cursor::parse).transpose()?;
    let key = cursor_keys.key(cursor.as_ref().map(Cursor::key_id)).await?;
    let after = cursor
        .map(|cursor| cursor.verify(&list, &key))
        .transpose()?;
    let limit = usize::try_from(page_limit).expect("checked above");
    let mut runs = store
        .list_runs(task_agent, &filter, after, limit + 1)
        .await?;
    let has_next = runs.len() > limit;
    runs.truncate(limit);
    let next_cursor = if has_next {
        runs.last()
            .map(|last| cursor::encode(last.position, &list, &key))
    } else {
        None
    };
    Ok(TaskAgentRunPage {
        results: runs.into_iter().map(|listed| listed.run).collect(),
        pagination: Pagination {
            next_cursor,
            has_next,
            page_limit,
        },
    })
}

/// The record of a validated write of run `path`.
fn prepare_record(path: &RunPath, write: TaskAgentRunWrite) -> Result<RunRecord, ApiError> {
    validate_run(&write)?;
    let run = TaskAgentRun::from_write(path.run_id, path.task_agent_id, write);
    RunRecord::new(*path, &run).map_err(|error| ApiError::Internal(error.into()))
}

/// A validated write of run `path` that replaces whatever is stored (as
/// `import` and the demo's seeding make them).
pub fn prepare_write(path: &RunPath, write: TaskAgentRunWrite) -> Result<RunWrite, ApiError> {
    Ok(RunWrite {
        record: prepare_record(path, write)?,
        if_match: None,
    })
}

/// Validates and stores a run; returns what happened and the stored run.
pub async fn put_run(
    store: &dyn RunStore,
    path: &RunPath,
    write: TaskAgentRunWrite,
    if_match: Option<IfMatch>,
) -> Result<(PutOutcome, StoredRun), ApiError> {
    let record = prepare_record(path, write)?;
    let stored = StoredRun {
        etag: record.etag.clone(),
        run: record.run.clone(),
    };
    let outcome = store.put_run(record, if_match).await?;
    Ok((outcome, stored))
}
