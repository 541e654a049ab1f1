//! End-to-end tests of the API: a real server on loopback with a real
//! database (SQLite, and PostgreSQL when `TASK_AGENT_TEST_POSTGRES_URL` is
//! set), driven through the generated client with real tokens; every
//! response is checked against `openapi.yaml` by the proxy in `support`.
//! Some tests run the `task-agent-server` binary itself (the command line,
//! import, replicas, faults).

mod auth;
mod cli;
mod cursor_keys;
mod docs;
mod faults;
mod get_run;
mod import;
mod limits;
mod list_runs;
mod observability;
mod pagination;
mod postgres_connection;
mod properties;
mod prune;
mod put_run;
mod replicas;
mod storage;
mod support;
