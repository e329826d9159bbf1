//! What the fuzz targets share: a fixed clock, a deterministic id source, and the checks every
//! parsed batch must pass.

use spindle_core::WriteBatch;
use spindle_ingest::otlp::{self, Encoding};

/// A fixed "now" (2026-11-21T04:48:18Z) so runs are reproducible.
pub const NOW: i64 = 1_795_236_498_000_000;

/// Ids `fuzz-1`, `fuzz-2`, … for entities whose body has none.
pub fn fresh_ids() -> impl FnMut() -> String {
    let mut counter = 0u64;
    move || {
        counter += 1;
        format!("fuzz-{counter}")
    }
}

/// After `coalesce`, every entity appears once and every observation belongs to a trace.
pub fn check_coalesced(batch: &WriteBatch) {
    let unique =
        |ids: Vec<&str>| ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len();
    assert!(unique(batch.traces.iter().map(|t| t.id.as_str()).collect()));
    assert!(unique(
        batch.observations.iter().map(|o| o.id.as_str()).collect()
    ));
    assert!(unique(batch.scores.iter().map(|s| s.id.as_str()).collect()));
    assert!(batch.observations.iter().all(|o| o.trace_id.is_some()));
}

/// An OTLP body in `encoding`: decode, map to records, coalesce. Any input must give a result
/// or an error, never a panic.
pub fn otlp_body(data: &[u8], encoding: Encoding) {
    if let Ok(export) = otlp::decode(data, encoding) {
        let spans = export.span_count();
        let mut batch = otlp::to_batch(&export, NOW);
        assert!(batch.observations.len() <= spans);
        batch.coalesce();
        check_coalesced(&batch);
    }
}
