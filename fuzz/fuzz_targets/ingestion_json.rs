//! `POST /api/public/ingestion` bodies: every event is either accepted or reported, and the
//! accepted ones coalesce into one record per entity.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut counter = 0u64;
    let mut fresh_id = || {
        counter += 1;
        format!("fuzz-{counter}")
    };
    if let Ok(parsed) = spindle_ingest::batch::parse(data, &mut fresh_id) {
        let events = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|root| root.get("batch")?.as_array().map(Vec::len))
            .expect("a parsed body has a batch array");
        assert_eq!(parsed.successes.len() + parsed.errors.len(), events);
        let mut batch = parsed.batch;
        batch.coalesce();
        let unique = |ids: Vec<&str>| {
            ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len()
        };
        assert!(unique(batch.traces.iter().map(|t| t.id.as_str()).collect()));
        assert!(unique(
            batch.observations.iter().map(|o| o.id.as_str()).collect()
        ));
        assert!(unique(batch.scores.iter().map(|s| s.id.as_str()).collect()));
        assert!(batch.observations.iter().all(|o| o.trace_id.is_some()));
    }
});
