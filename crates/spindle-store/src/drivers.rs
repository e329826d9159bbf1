//! The database drivers' side of the shared layer, each behind its cargo feature (`sqlite`,
//! `postgres`): how a [`Param`](crate::sql::Param) and a row codec's cells bind, how a
//! driver's row is read by column name, and how a driver's errors become store errors.
//!
//! These are trait implementations for the shared types, so they live in this crate (Rust's
//! orphan rule); everything else a backend does with its driver lives in its own crate
//! (`spindle-store-sqlite`, `spindle-store-postgres`). A build that leaves a backend out
//! leaves its driver out too.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
