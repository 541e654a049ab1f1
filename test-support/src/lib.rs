//! What the tests of the server and the client, and the load tools, run
//! servers with:
//!
//! - [`free_port`]: a free loopback port;
//! - [`ServerProcess`]: a server as a child process on loopback (the
//!   `task-agent-server` binary or any other), killed when dropped;
//! - [`TestIdp`]: an identity provider stand-in (a JWKS, Hydra's token
//!   endpoint, Hydra- and Kratos-shaped tokens, key rotation);
//! - [`LoopbackServer`]: any HTTP stand-in on loopback, from a handler;
//! - [`Agent`] and the sample runs ([`minimal_run`], [`full_run`] at
//!   instants [`at`]): data every test can write.
//!
//! Everything here runs against the real thing: real sockets, real keys,
//! real processes. Helpers meant for tests panic on failure, with the
//! reason; those the load tools use return errors.

mod agent;
mod idp;
mod loopback;
mod port;
mod process;
mod runs;

pub use agent::{Agent, READER, WRITER};
pub use idp::{OAuthClient, SigningKey, TestIdp, TokenGrant, new_key};
pub use loopback::{LoopbackResponse, LoopbackServer, json_response};
pub use port::free_port;
pub use process::ServerProcess;
pub use runs::{at, full_run, minimal_run, write_body};
