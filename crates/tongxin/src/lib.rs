//! The `tongxin` binary's library half: configuration, the demo city, and serving. `main.rs`
//! is the command line; the integration tests drive the same functions.

pub mod config;
pub mod demo;
pub mod server;
