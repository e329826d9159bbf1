//! Spindle: a Rust SDK for Langfuse-compatible LLM observability.
//!
//! It records traces of LLM applications (observations nested like the call tree, their input,
//! output, model, usage and cost, the user and session, scores) and sends them in the background
//! over OTLP/HTTP exactly as the official Python SDK 5.x does, so any Langfuse-compatible server,
//! Spindle's included, accepts them.
//!
//! ```
//! use spindle::{observe, ObservationType, ObservationUpdate};
//!
//! #[observe]
//! fn retrieve_documents(query: &str) -> Vec<String> {
//!     vec![format!("doc about {query}")]
//! }
//!
//! #[observe(as_type = "generation")]
//! fn generate_answer(question: &str, context: &[String]) -> String {
//!     spindle::update_current_generation(
//!         ObservationUpdate::new()
//!             .model("fake-llm")
//!             .usage_details(&serde_json::json!({"input": 12, "output": 7})),
//!     );
//!     format!("{question}: {}", context.len())
//! }
//!
//! #[observe]
//! fn answer_support_question(question: &str) -> String {
//!     let documents = retrieve_documents(question);
//!     generate_answer(question, &documents)
//! }
//!
//! // without an installed client every call above costs almost nothing
//! assert_eq!(answer_support_question("reset password"), "reset password: 1");
//! ```
//!
//! Configure a client with [`Client::builder`] or [`Client::from_env`] and make it global with
//! [`Client::install_global`]; call [`Client::flush`] before a short program exits.
//!
//! Versioned prompts come from the server with [`Client::get_prompt`] (cached, with a fallback),
//! compile with [`Prompt::compile`], and link to generations with
//! [`ObservationUpdate::linked_prompt`].
//!
//! Datasets come from the server with [`Client::get_dataset`]; [`Client::experiment`] runs a
//! task over their items (or any list) with evaluators, tracing each item and linking it to a
//! dataset run.

#![warn(missing_docs)]

#[macro_use]
mod setters;

mod api;
mod client;
mod config;
mod context;
mod current;
mod dataset;
mod experiment;
mod export;
mod ids;
mod json;
mod layer;
mod observation;
mod otel;
mod prompt;
mod propagation;
mod score;

#[doc(hidden)]
pub mod __private;

pub use client::{get_client, Client};
pub use config::{ClientBuilder, ConfigError};
pub use context::{spawn, FutureExt, Instrumented};
pub use current::{
    current_observation, get_current_observation_id, get_current_trace_id, score_current_span,
    score_current_trace, update_current_generation, update_current_span,
};
pub use dataset::{
    CreateDataset, CreateDatasetItem, CreateDatasetRunItem, Dataset, DatasetError, DatasetItem,
    DatasetItemPages, DatasetItemStatus, DatasetRun, DatasetRunItem, GetDataset,
    DEFAULT_DATASET_PAGE_SIZE,
};
pub use experiment::{
    EvaluatorFailure, EvaluatorInput, Experiment, ExperimentItem, ExperimentResult,
    IntoEvaluations, ItemResult, ScoreSummary, DEFAULT_MAX_CONCURRENCY,
};
pub use ids::{create_observation_id, create_trace_id, new_trace_id, TraceContext};
pub use layer::SpindleLayer;
pub use observation::{
    observation, Level, Observation, ObservationBuilder, ObservationType, ObservationUpdate,
};
pub use prompt::{
    ChatMessage, CompiledMessage, CompiledPrompt, CreatePrompt, GetPrompt, Prompt, PromptError,
    PromptMessage, PromptTemplate, PromptType, Variables, DEFAULT_PROMPT_LABEL,
};
pub use propagation::{
    current_baggage, propagate_attributes, propagate_attributes_async, PropagatedAttributes,
};
pub use score::{Score, ScoreValue};

/// Records a function call as an observation: sync or async, free function or method.
///
/// See the [`spindle_macros::observe`] documentation for its arguments.
///
/// ```
/// #[spindle::observe(name = "outer-sync-custom-name")]
/// fn outer(x: i32) -> serde_json::Value {
///     serde_json::json!({"doubled": x * 2})
/// }
/// assert_eq!(outer(21)["doubled"], 42);
/// ```
pub use spindle_macros::observe;

/// The README's examples, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Value of the `x-langfuse-sdk-name` header.
///
/// ```
/// assert_eq!(spindle::SDK_NAME, "rust");
/// ```
pub const SDK_NAME: &str = "rust";

/// Version of this SDK, sent in headers and as the instrumentation scope version.
///
/// ```
/// assert!(!spindle::SDK_VERSION.is_empty());
/// ```
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
