//! The client against the real server on loopback: authentication, retries,
//! forward compatibility, timeouts, tracing, the command line and the mocks.

mod auth;
mod cli;
mod compatibility;
mod mock;
mod retries;
mod support;
mod timeouts;
mod tracing_events;
