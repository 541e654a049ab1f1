//! The Task Agent Runs API server.
//!
//! - [`api`]: the dropshot API trait and wire types (the contract's server
//!   half, free of storage and auth code);

pub mod api;
