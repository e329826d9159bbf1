//! The benchmarks behind `spindle-bench` (see `main.rs`), as a library so that the examples
//! seed data with the same generator and the same bench project.

pub mod generate;
pub mod http;
pub mod ingest;
pub mod limits;
pub mod pg;
pub mod phoenix;
pub mod query;
pub mod report;
pub mod results;
pub mod seed;
pub mod server;
pub mod summary;
