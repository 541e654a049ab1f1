//! The response of `PUT`, which has two success statuses.

use dropshot::{
    ApiEndpointResponse, Body, HttpError, HttpResponse, HttpResponseCreated, HttpResponseHeaders,
    HttpResponseOk,
};
use http::{Response, StatusCode};

use super::headers::RunHeaders;
use super::run::TaskAgentRun;
use super::serialized::Serialized;

/// The stored run after a `PUT`: 201 when the request created it, 200 when it
/// replaced an existing version (or repeated the stored one).
pub enum PutRunResponse {
    /// The run did not exist before.
    Created(Serialized<TaskAgentRun>, RunHeaders),
    /// The run existed and now holds the new version.
    Replaced(Serialized<TaskAgentRun>, RunHeaders),
}

/// What dropshot can document of [`PutRunResponse`]: one success status (200)
/// with the run and its `ETag`. The spec adds 201 with the same content.
type DocumentedPutRunResponse =
    HttpResponseHeaders<HttpResponseOk<Serialized<TaskAgentRun>>, RunHeaders>;

impl HttpResponse for PutRunResponse {
    fn to_result(self) -> Result<Response<Body>, HttpError> {
        match self {
            PutRunResponse::Created(run, headers) => {
                HttpResponseHeaders::new(HttpResponseCreated(run), headers).to_result()
            }
            PutRunResponse::Replaced(run, headers) => {
                DocumentedPutRunResponse::new(HttpResponseOk(run), headers).to_result()
            }
        }
    }

    fn response_metadata() -> ApiEndpointResponse {
        DocumentedPutRunResponse::response_metadata()
    }

    fn status_code(&self) -> StatusCode {
        match self {
            PutRunResponse::Created(..) => StatusCode::CREATED,
            PutRunResponse::Replaced(..) => StatusCode::OK,
        }
    }
}
