//! `POST /api/public/ingestion` bodies: every event is either accepted, reported, or held as a
//! score naming a config (checked once the configs are read), and the accepted ones coalesce
//! into one record per entity.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = spindle_ingest::batch::parse(data, &mut spindle_fuzz::fresh_ids()) {
        // Counted without building values: a number beyond f64's range is valid JSON (the
        // server ignores it outside the events, as JavaScript's JSON.parse would read it), but
        // serde_json refuses to make a `Value` of it.
        let events = serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(data)
            .ok()
            .and_then(|root| {
                serde_json::from_str::<Vec<Box<RawValue>>>(root.get("batch")?.get()).ok()
            })
            .map(|events| events.len())
            .expect("a parsed body has a batch array");
        assert_eq!(
            parsed.successes.len() + parsed.errors.len() + parsed.pending.len(),
            events
        );
        let mut batch = parsed.batch;
        batch.coalesce();
        spindle_fuzz::check_coalesced(&batch);
    }
});
