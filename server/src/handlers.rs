//! The implementation of the API trait: admit, authorize, call
//! [`crate::runs`], and shape the HTTP response. Errors become `HttpError`
//! in one place ([`crate::error`]).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use dropshot::{Header, HttpError, HttpResponseOk, Path, Query, RequestContext, TypedBody};
use futures::FutureExt;
use uuid::Uuid;

use crate::api::{
    Open, PutRunHeaders, RunListQuery, RunPath, RunResponse, TaskAgentPath, TaskAgentRunPage,
    TaskAgentRunWrite, TaskAgentRunsApi,
};
use crate::auth::Access;
use crate::context::ServerContext;
use crate::error::ApiError;
use crate::etag::IfMatch;
use crate::runs;
use crate::storage::PutOutcome;

/// The server's implementation of [`TaskAgentRunsApi`].
pub enum TaskAgentRunsImpl {}

/// Runs the body of a handler of the runs of `org_id`: with an admission
/// permit (503 beyond the limit of concurrent requests), after the request
/// is authenticated and authorized for `access` (before anything about the
/// runs is looked up, so that a non-member learns nothing about which runs
/// exist), and with a panic turned into a 500 whose cause goes to the log,
/// so that one bad request can take down neither its connection nor the
/// server.
async fn guarded<T>(
    rqctx: &RequestContext<ServerContext>,
    org_id: Uuid,
    access: Access,
    body: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, HttpError> {
    let context = rqctx.context();
    let _permit = context.admit()?;
    let authorized_body = async {
        context
            .authorize(rqctx.request.headers(), org_id, access)
            .await?;
        body.await
    };
    match AssertUnwindSafe(authorized_body).catch_unwind().await {
        Ok(result) => Ok(result?),
        Err(panic) => {
            let cause = anyhow::anyhow!("the handler panicked: {}", panic_message(panic.as_ref()));
            Err(ApiError::Internal(cause).into())
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

impl TaskAgentRunsApi for TaskAgentRunsImpl {
    type Context = ServerContext;

    async fn get_task_agent_run(
        rqctx: RequestContext<ServerContext>,
        path: Path<RunPath>,
    ) -> Result<RunResponse, HttpError> {
        let path = path.into_inner();
        guarded(&rqctx, path.org_id, Access::Read, async {
            let stored = runs::get_run(rqctx.context().database.as_ref(), &path).await?;
            Ok(RunResponse::ok(stored.run, stored.etag))
        })
        .await
    }

    async fn list_task_agent_runs(
        rqctx: RequestContext<ServerContext>,
        path: Path<TaskAgentPath>,
        query: Query<RunListQuery>,
    ) -> Result<HttpResponseOk<Open<TaskAgentRunPage>>, HttpError> {
        let path = path.into_inner();
        guarded(&rqctx, path.org_id, Access::Read, async {
            let context = rqctx.context();
            let page = runs::list_runs(
                context.database.as_ref(),
                &context.cursor_keys,
                &path,
                query.into_inner(),
            )
            .await?;
            Ok(HttpResponseOk(Open(page)))
        })
        .await
    }

    async fn put_task_agent_run(
        rqctx: RequestContext<ServerContext>,
        path: Path<RunPath>,
        headers: Header<PutRunHeaders>,
        body: TypedBody<TaskAgentRunWrite>,
    ) -> Result<RunResponse, HttpError> {
        let path = path.into_inner();
        guarded(&rqctx, path.org_id, Access::Write, async {
            let if_match = headers
                .into_inner()
                .if_match
                .map(|value| {
                    IfMatch::parse(&value).map_err(|error| ApiError::BadRequest(error.to_string()))
                })
                .transpose()?;
            let (outcome, stored) = runs::put_run(
                rqctx.context().database.as_ref(),
                &path,
                body.into_inner(),
                if_match,
            )
            .await?;
            Ok(match outcome {
                PutOutcome::Created => RunResponse::created(stored.run, stored.etag),
                PutOutcome::Replaced | PutOutcome::Unchanged => {
                    RunResponse::ok(stored.run, stored.etag)
                }
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_read_from_both_payload_types() {
        let literal = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "boom");
        let formatted = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "boom 7");
    }
}
