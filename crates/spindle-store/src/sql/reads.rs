//! The read side both backends share: the select lists of the list and get queries and
//! the decoding of their rows into views.

use spindle_core::{Error, Level};

use super::rows::{decode_observation, decode_score, decode_trace};
use super::{Expr, RowAccess};
use crate::{ObservationView, Result, ScoreView, TraceView};

/// The trace context an observation list reads beside each observation (alias `t`).
pub(crate) const OBSERVATION_TRACE_CONTEXT: Expr = Expr::per_dialect(
    "t.name AS trace_name, t.user_id AS trace_user_id, t.session_id AS trace_session_id, \
     t.tags AS trace_tags, t.release AS trace_release",
    "t.name AS trace_name, t.user_id AS trace_user_id, t.session_id AS trace_session_id, \
     t.tags::text AS trace_tags, t.release AS trace_release",
);

/// Observations with their trace, which may be missing.
pub(crate) const OBSERVATION_FROM: &str = "FROM observations o LEFT JOIN traces t \
     ON t.project_id = o.project_id AND t.id = o.trace_id";

/// The trace context a score list reads beside each score (alias `t`).
pub(crate) const SCORE_TRACE_CONTEXT: Expr = Expr::per_dialect(
    "t.user_id AS trace_user_id, t.tags AS trace_tags, t.environment AS trace_environment, \
     t.session_id AS trace_session_id",
    "t.user_id AS trace_user_id, t.tags::text AS trace_tags, \
     t.environment AS trace_environment, t.session_id AS trace_session_id",
);

/// Scores with their trace, which may be missing.
pub(crate) const SCORE_FROM: &str =
    "FROM scores s LEFT JOIN traces t ON t.project_id = s.project_id AND t.id = s.trace_id";

/// A trace row ([`super::rows::TRACE_COLUMNS`]) as a view; the derived fields are filled
/// in later.
pub(crate) fn decode_trace_view(row: &impl RowAccess) -> Result<TraceView> {
    let stored = decode_trace(row)?;
    Ok(TraceView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        latency_seconds: None,
        total_cost: 0.0,
        level: Level::Default,
        observation_ids: Vec::new(),
        score_ids: Vec::new(),
        observations: Vec::new(),
        scores: Vec::new(),
    })
}

/// An observation row followed by [`OBSERVATION_TRACE_CONTEXT`].
pub(crate) fn decode_observation_view(row: &impl RowAccess) -> Result<ObservationView> {
    let stored = decode_observation(row)?;
    Ok(ObservationView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        trace_name: row.opt_text("trace_name")?,
        user_id: row.opt_text("trace_user_id")?,
        session_id: row.opt_text("trace_session_id")?,
        tags: parse_tags(row.opt_text("trace_tags")?.as_deref())?,
        release: row.opt_text("trace_release")?,
    })
}

/// A score row followed by [`SCORE_TRACE_CONTEXT`].
pub(crate) fn decode_score_view(row: &impl RowAccess) -> Result<ScoreView> {
    let stored = decode_score(row)?;
    Ok(ScoreView {
        record: stored.record,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        trace_user_id: row.opt_text("trace_user_id")?,
        trace_tags: parse_tags(row.opt_text("trace_tags")?.as_deref())?,
        trace_environment: row.opt_text("trace_environment")?,
        trace_session_id: row.opt_text("trace_session_id")?,
    })
}

fn parse_tags(text: Option<&str>) -> Result<Vec<String>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Error::internal(format!("stored traces.tags is not readable: {e}"))),
    }
}
