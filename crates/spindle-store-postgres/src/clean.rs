//! Text PostgreSQL cannot store: NUL characters, which JSON input may carry (`\u0000`),
//! replaced in every text of a record before it is written.

use spindle_core::{ObservationRecord, ScoreRecord, TraceRecord};
use std::collections::BTreeMap;

/// PostgreSQL text cannot hold NUL characters, which JSON input may carry (`\u0000`): they
/// are stored as U+FFFD so that the rest of the record is kept (SQLite stores them as they
/// are).
fn clean(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

fn clean_option(text: &mut Option<String>) {
    if let Some(text) = text {
        clean(text);
    }
}

fn clean_map(map: &mut BTreeMap<String, String>) {
    if map
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(mut k, mut v)| {
                clean(&mut k);
                clean(&mut v);
                (k, v)
            })
            .collect();
    }
}

fn clean_keys<V>(map: &mut BTreeMap<String, V>) {
    if map.keys().any(|k| k.contains('\0')) {
        *map = std::mem::take(map)
            .into_iter()
            .map(|(mut k, v)| {
                clean(&mut k);
                (k, v)
            })
            .collect();
    }
}

/// Replaces NUL characters in every text of a trace (see [`clean`]).
pub(crate) fn clean_trace(r: &mut TraceRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.environment,
        &mut r.name,
        &mut r.user_id,
        &mut r.session_id,
        &mut r.release,
        &mut r.version,
        &mut r.input,
        &mut r.output,
        &mut r.external_id,
    ] {
        clean_option(text);
    }
    if r.tags.iter().any(|t| t.contains('\0')) {
        r.tags = std::mem::take(&mut r.tags)
            .into_iter()
            .map(|mut t| {
                clean(&mut t);
                t
            })
            .collect();
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}

/// Replaces NUL characters in every text of an observation (see [`clean`]).
pub(crate) fn clean_observation(r: &mut ObservationRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.trace_id,
        &mut r.environment,
        &mut r.parent_observation_id,
        &mut r.name,
        &mut r.status_message,
        &mut r.version,
        &mut r.model,
        &mut r.model_parameters,
        &mut r.prompt_name,
        &mut r.input,
        &mut r.output,
    ] {
        clean_option(text);
    }
    if let Some(usage) = r.usage_details.as_mut() {
        clean_keys(usage);
    }
    if let Some(costs) = r.cost_details.as_mut() {
        clean_keys(costs);
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}

/// Replaces NUL characters in every text of a score (see [`clean`]).
pub(crate) fn clean_score(r: &mut ScoreRecord) {
    clean(&mut r.id);
    for text in [
        &mut r.environment,
        &mut r.name,
        &mut r.string_value,
        &mut r.trace_id,
        &mut r.observation_id,
        &mut r.session_id,
        &mut r.dataset_run_id,
        &mut r.comment,
        &mut r.config_id,
        &mut r.queue_id,
        &mut r.author_user_id,
        &mut r.execution_trace_id,
    ] {
        clean_option(text);
    }
    clean_map(&mut r.metadata);
    clean_keys(&mut r.stamps);
}
