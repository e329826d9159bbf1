//! Functions acting on the current observation: updates, ids and scores (Python's
//! `update_current_span`, `get_current_trace_id`, `score_current_trace`, …).

use crate::context;
use crate::observation::{Observation, ObservationUpdate};
use crate::score::Score;

/// A handle on the current observation (a no-op handle when none is current).
///
/// ```
/// assert!(!spindle::current_observation().is_recording());
/// ```
pub fn current_observation() -> Observation {
    Observation::from_state(context::current_observation())
}

/// Applies `update` to the current observation, whatever its type.
///
/// ```
/// spindle::update_current_span(spindle::ObservationUpdate::new().metadata(&serde_json::json!({"k": 1})));
/// ```
pub fn update_current_span(update: ObservationUpdate) {
    if let Some(state) = context::current_observation() {
        state.apply(update.attributes);
    }
}

/// Applies `update` (model, usage, cost, …) to the current observation, normally a generation.
///
/// ```
/// spindle::update_current_generation(spindle::ObservationUpdate::new().model("gpt-4o-mini"));
/// ```
pub fn update_current_generation(update: ObservationUpdate) {
    update_current_span(update);
}

/// The current trace id (32 hex characters), if an observation is current.
///
/// ```
/// assert_eq!(spindle::get_current_trace_id(), None);
/// ```
pub fn get_current_trace_id() -> Option<String> {
    context::current_observation().map(|state| hex::encode(state.trace_id))
}

/// The current observation id (16 hex characters), if an observation is current.
///
/// ```
/// assert_eq!(spindle::get_current_observation_id(), None);
/// ```
pub fn get_current_observation_id() -> Option<String> {
    context::current_observation().map(|state| hex::encode(state.span_id))
}

/// Scores the current observation (nothing happens when none is current).
///
/// ```
/// spindle::score_current_span(spindle::Score::boolean("cur-span-score", true));
/// ```
pub fn score_current_span(score: Score) {
    current_observation().score(score);
}

/// Scores the current trace (nothing happens when no observation is current).
///
/// ```
/// spindle::score_current_trace(spindle::Score::numeric("cur-trace-score", 2.5).comment("c"));
/// ```
pub fn score_current_trace(score: Score) {
    current_observation().score_trace(score);
}
