//! The `error_code` of every error the API answers: one constant each, for
//! the server to send, and for clients and tests to compare with, and the
//! list the spec's `Error.error_code` describes (`cargo xtask check` holds
//! the spec to [`error_code_description`]).

/// 400: a malformed header the server reads (`If-Match`).
pub const BAD_REQUEST: &str = "BadRequest";
/// 401: no bearer token, or one that does not verify.
pub const UNAUTHORIZED: &str = "Unauthorized";
/// 403: the token's subject may not do this.
pub const FORBIDDEN: &str = "Forbidden";
/// 404: no such run.
pub const NOT_FOUND: &str = "NotFound";
/// 408: the request body did not arrive in time. (The HTTP server sends it
/// before the handler runs; its text is in `vendor/dropshot`.)
pub const REQUEST_TIMEOUT: &str = "RequestTimeout";
/// 409: the run is in a terminal status and the write would change it.
pub const RUN_TERMINAL: &str = "RunTerminal";
/// 412: `If-Match` does not match the stored run.
pub const PRECONDITION_FAILED: &str = "PreconditionFailed";
/// 422: a well-formed value that breaks a rule; the message names the field.
pub const INVALID_VALUE: &str = "InvalidValue";
/// 500: something unexpected; the server's log has the cause.
pub const INTERNAL: &str = "Internal";
/// 503: the server is at its limit of requests in progress.
pub const OVERLOADED: &str = "Overloaded";
/// 503: the database, or the token issuer's keys, cannot be reached.
pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";

/// An error code, its status, and when it is sent.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub when: &'static str,
}

/// Every error code, by status.
pub const ERROR_CODES: [ErrorCode; 11] = [
    ErrorCode {
        code: BAD_REQUEST,
        status: 400,
        when: "a malformed header",
    },
    ErrorCode {
        code: UNAUTHORIZED,
        status: 401,
        when: "no bearer token, or one that does not verify",
    },
    ErrorCode {
        code: FORBIDDEN,
        status: 403,
        when: "not allowed",
    },
    ErrorCode {
        code: NOT_FOUND,
        status: 404,
        when: "no such run",
    },
    ErrorCode {
        code: REQUEST_TIMEOUT,
        status: 408,
        when: "the body came too slowly",
    },
    ErrorCode {
        code: RUN_TERMINAL,
        status: 409,
        when: "the run can no longer change",
    },
    ErrorCode {
        code: PRECONDITION_FAILED,
        status: 412,
        when: "`If-Match` does not match",
    },
    ErrorCode {
        code: INVALID_VALUE,
        status: 422,
        when: "a value breaks a rule",
    },
    ErrorCode {
        code: INTERNAL,
        status: 500,
        when: "unexpected",
    },
    ErrorCode {
        code: OVERLOADED,
        status: 503,
        when: "too many requests in progress",
    },
    ErrorCode {
        code: SERVICE_UNAVAILABLE,
        status: 503,
        when: "the database or the token issuer's keys cannot be reached",
    },
];

/// The description of `Error.error_code` in the spec.
pub fn error_code_description() -> String {
    let codes: Vec<String> = ERROR_CODES
        .iter()
        .map(|code| format!("`{}` ({}: {})", code.code, code.status, code.when))
        .collect();
    format!(
        "What went wrong, for programs to compare (the message is for people): {}. \
         A malformed path, query or body (400, found before the request reaches the API) \
         has no code. Later versions may add codes.",
        codes.join("; ")
    )
}
