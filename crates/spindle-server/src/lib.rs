//! The Spindle server: a Langfuse-compatible HTTP API over a [`spindle_store::Store`].
//!
//! Handlers are thin: extract, convert with `spindle-ingest`, call the store once, convert the
//! result with [`dto`]. Errors become HTTP statuses in one place, [`error::http_status`].

pub mod admission;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod dto;
pub mod error;
pub mod listen;
pub mod metrics;
pub mod prompts;
pub mod readiness;
pub mod resolver;
pub mod routes;
pub mod secret;
pub mod state;
pub mod ui;

pub use routes::app;
pub use state::AppState;
