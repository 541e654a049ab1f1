//! The implementation of the API trait: authorize, extract, call
//! [`crate::runs`], and shape the HTTP response. Errors become `HttpError`
//! in one place ([`crate::error`]).

use dropshot::{
    Header, HttpError, HttpResponseHeaders, HttpResponseOk, Path, Query, RequestContext, TypedBody,
};

use crate::api::{
    PutRunHeaders, PutRunResponse, RunHeaders, RunListQuery, RunPath, RunResponse, TaskAgentPath,
    TaskAgentRunPage, TaskAgentRunWrite, TaskAgentRunsApi,
};
use crate::auth::Access;
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
        let context = rqctx.context();
        let path = path.into_inner();
        context
            .authorize(rqctx.request.headers(), path.org_id, Access::Read)
            .await?;
        let stored = runs::get_run(context.database.as_ref(), &path).await?;
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
        let context = rqctx.context();
        let path = path.into_inner();
        context
            .authorize(rqctx.request.headers(), path.org_id, Access::Read)
            .await?;
        let page = runs::list_runs(context.database.as_ref(), &path, query.into_inner()).await?;
        Ok(HttpResponseOk(page))
    }

    async fn put_task_agent_run(
        rqctx: RequestContext<ServerContext>,
        path: Path<RunPath>,
        headers: Header<PutRunHeaders>,
        body: TypedBody<TaskAgentRunWrite>,
    ) -> Result<PutRunResponse, HttpError> {
        let context = rqctx.context();
        let path = path.into_inner();
        context
            .authorize(rqctx.request.headers(), path.org_id, Access::Write)
            .await?;
        let if_match = headers
            .into_inner()
            .if_match
            .map(|value| {
                IfMatch::parse(&value).map_err(|error| ApiError::BadRequest(error.to_string()))
            })
            .transpose()?;
        let (outcome, stored) = runs::put_run(
            context.database.as_ref(),
            &path,
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
