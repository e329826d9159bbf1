//! `POST /api/public/ingestion` bodies: every event is either accepted or reported, and the
//! accepted ones coalesce into one record per entity.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = spindle_ingest::batch::parse(data, &mut spindle_fuzz::fresh_ids()) {
        let events = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|root| root.get("batch")?.as_array().map(Vec::len))
            .expect("a parsed body has a batch array");
        assert_eq!(parsed.successes.len() + parsed.errors.len(), events);
        let mut batch = parsed.batch;
        batch.coalesce();
        spindle_fuzz::check_coalesced(&batch);
    }
});
