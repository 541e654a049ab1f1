//! The Task Agent Runs API server.
//!
//! - [`api`]: the `task-agent-api` crate, re-exported: the dropshot API
//!   trait and wire types (the contract's server half, which cannot reach
//!   storage or auth code: it does not depend on this crate);
//! - `handlers` (private): the trait's implementation, over `runs`, which
//!   holds what the operations do; only [`server`] sees it, through
//!   [`server::api_description`];
//! - [`auth`]: bearer JWT verification and the membership rules;
//! - [`storage`]: the [`storage::RunStore`] and [`storage::MembershipStore`]
//!   interfaces and their backends;
//! - [`server`]: starting the HTTP server; [`cli`]: the command line.

pub use task_agent_api as api;
pub mod auth;
pub mod cli;
mod config;
pub mod context;
pub mod cursor;
pub mod database_url;
pub mod demo;
mod docs;
mod error;
pub mod etag;
mod handlers;
mod import;
pub mod logging;
pub mod metrics;
mod probes;
mod prune;
pub mod routes;
mod runs;
pub mod samples;
pub mod server;
pub mod storage;
mod validation;
