//! The implementation of the API trait: extract, call [`crate::runs`], and
//! shape the HTTP response. Errors become `HttpError` in one place
//! ([`crate::error`]).

use dropshot::{
    Header, HttpError, HttpResponseHeaders, HttpResponseOk, Path, Query, RequestContext, TypedBody,
};

use crate::api::{
    PutRunHeaders, PutRunResponse, RunHeaders, RunListQuery, RunPath, RunResponse, TaskAgentPath,
    TaskAgentRunPage, TaskAgentRunWrite, TaskAgentRunsApi,
};
use crate::context::ServerContext;
use crate::error::ApiError;
use crate::etag::IfMatch;
use crate::runs;
use crate::storage::PutOutcome;

/// The server's implementation of [`TaskAgentRunsApi`].
pub enum TaskAgentRunsImpl {}

impl TaskAgentRunsApi for TaskAgentRunsImpl {
    type Context = ServerContext;

    async fn get_task_agent_run(
        rqctx: RequestContext<ServerContext>,
        path: Path<RunPath>,
    ) -> Result<RunResponse, HttpError> {
        let stored = runs::get_run(rqctx.context().store.as_ref(), &path.into_inner()).await?;
        Ok(HttpResponseHeaders::new(
            HttpResponseOk(stored.run),
            RunHeaders { etag: stored.etag },
        ))
    }

    async fn list_task_agent_runs(
        rqctx: RequestContext<ServerContext>,
        path: Path<TaskAgentPath>,
        query: Query<RunListQuery>,
    ) -> Result<HttpResponseOk<TaskAgentRunPage>, HttpError> {
        let page = runs::list_runs(
            rqctx.context().store.as_ref(),
            &path.into_inner(),
            query.into_inner(),
        )
        .await?;
        Ok(HttpResponseOk(page))
    }

    async fn put_task_agent_run(
        rqctx: RequestContext<ServerContext>,
        path: Path<RunPath>,
        headers: Header<PutRunHeaders>,
        body: TypedBody<TaskAgentRunWrite>,
    ) -> Result<PutRunResponse, HttpError> {
        let if_match = headers
            .into_inner()
            .if_match
            .map(|value| {
                IfMatch::parse(&value).map_err(|error| ApiError::BadRequest(error.to_string()))
            })
            .transpose()?;
        let (outcome, stored) = runs::put_run(
            rqctx.context().store.as_ref(),
            &path.into_inner(),
            body.into_inner(),
            if_match,
        )
        .await?;
        let headers = RunHeaders { etag: stored.etag };
        Ok(match outcome {
            PutOutcome::Created => PutRunResponse::Created(stored.run, headers),
            PutOutcome::Replaced | PutOutcome::Unchanged => {
                PutRunResponse::Replaced(stored.run, headers)
            }
        })
    }
}
