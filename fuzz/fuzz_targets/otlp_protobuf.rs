//! OTLP/HTTP protobuf bodies: decode, map to records, coalesce. Any input must give a result
//! or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::otlp::{self, Encoding};

/// A fixed "now" (2026-11-21T04:48:18Z) so runs are reproducible.
const NOW: i64 = 1_795_236_498_000_000;

/// After `coalesce`, every entity appears once and every observation belongs to a trace.
fn check_coalesced(batch: &spindle_core::WriteBatch) {
    let unique =
        |ids: Vec<&str>| ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len();
    assert!(unique(batch.traces.iter().map(|t| t.id.as_str()).collect()));
    assert!(unique(
        batch.observations.iter().map(|o| o.id.as_str()).collect()
    ));
    assert!(unique(batch.scores.iter().map(|s| s.id.as_str()).collect()));
    assert!(batch.observations.iter().all(|o| o.trace_id.is_some()));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(export) = otlp::decode(data, Encoding::Protobuf) {
        let spans = export.span_count();
        let mut batch = otlp::to_batch(&export, NOW);
        assert!(batch.observations.len() <= spans);
        batch.coalesce();
        check_coalesced(&batch);
    }
});
