//! The response of the operations that answer with one run: `GET` (200) and
//! `PUT` (201 when the request created the run, 200 when it replaced it).

use dropshot::{
    ApiEndpointResponse, Body, HttpError, HttpResponse, HttpResponseHeaders, HttpResponseOk,
};
use http::header::{CONTENT_TYPE, ETAG};
use http::{HeaderValue, Response, StatusCode};

use super::forms::Open;
use super::headers::RunHeaders;
use super::run::TaskAgentRun;
use super::serialized::Serialized;

/// A run and its `ETag`.
pub struct RunResponse {
    status: StatusCode,
    run: Serialized<TaskAgentRun>,
    etag: String,
}

/// What dropshot documents of a [`RunResponse`]: 200 with the run and its
/// `ETag`. The spec adds 201 with the same content to `PUT`.
type DocumentedRunResponse = HttpResponseHeaders<HttpResponseOk<Open<TaskAgentRun>>, RunHeaders>;

impl RunResponse {
    /// 200: the run as read, replaced, or repeated unchanged.
    pub fn ok(run: Serialized<TaskAgentRun>, etag: String) -> RunResponse {
        RunResponse {
            status: StatusCode::OK,
            run,
            etag,
        }
    }

    /// 201: the run did not exist before the request.
    pub fn created(run: Serialized<TaskAgentRun>, etag: String) -> RunResponse {
        RunResponse {
            status: StatusCode::CREATED,
            run,
            etag,
        }
    }
}

impl HttpResponse for RunResponse {
    // Built here rather than by `DocumentedRunResponse`, which would check
    // the JSON text and copy it into a new buffer, and pass the `ETag`
    // through a map of strings: the stored text becomes the body as it is,
    // on the hottest path of the server.
    fn to_result(self) -> Result<Response<Body>, HttpError> {
        let etag = HeaderValue::try_from(self.etag)
            .map_err(|error| HttpError::for_internal_error(format!("ETag: {error}")))?;
        Ok(Response::builder()
            .status(self.status)
            .header(CONTENT_TYPE, "application/json")
            .header(ETAG, etag)
            .body(self.run.into_json().into())?)
    }

    fn response_metadata() -> ApiEndpointResponse {
        DocumentedRunResponse::response_metadata()
    }

    fn status_code(&self) -> StatusCode {
        self.status
    }
}
