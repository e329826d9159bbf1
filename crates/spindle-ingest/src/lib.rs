//! Wire formats to Spindle's domain: OTLP trace exports, Langfuse batch ingestion events,
//! score bodies, custom model bodies, prompt bodies and dataset bodies. Parsing is strict about types and precise in its errors
//! (`batch[3].body.startTime: not an ISO-8601 timestamp`), lenient about unknown keys.
//!
//! Nothing here does IO: callers hand in bytes (already read and decompressed) and get
//! [`spindle_core::WriteBatch`]es back.

pub mod admin;
pub mod batch;
pub mod compression;
pub mod dataset;
pub mod fields;
pub mod media;
pub mod model;
pub mod otlp;
pub mod prompt;
pub mod review;
pub mod score;
pub mod score_config;
pub mod usage;
