//! End-to-end tests of the API: a real server on loopback with a real SQLite
//! file, driven through the generated client; every response is checked
//! against `openapi.yaml` by the proxy in `support`.

mod auth;
mod cli;
mod get_run;
mod import;
mod list_runs;
mod pagination;
mod put_run;
mod support;
