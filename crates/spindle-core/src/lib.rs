//! Spindle's domain model: traces, observations and scores, and the rules that merge them.
//!
//! Everything here is pure: no IO, no randomness, and no clock read except by
//! [`time::now_micros`], which nothing in this crate calls (it is the one definition of "now"
//! for the crates above). Wire formats convert into these types in `spindle-ingest`; storage
//! backends persist them in `spindle-store`.

pub mod dataset;
pub mod error;
pub mod media;
pub mod merge;
pub mod model;
pub mod prompt;
pub mod record;
pub mod review;
pub mod rng;
pub mod score_config;
pub mod time;

pub use error::{Error, ErrorKind};
pub use merge::Stamp;
pub use model::{Level, ObservationType, ScoreDataType, ScoreSource};
pub use record::{
    DerivedCost, ExperimentRunItem, ObservationRecord, ScoreRecord, TraceRecord, WriteBatch,
};
