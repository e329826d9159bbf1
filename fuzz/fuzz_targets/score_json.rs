//! Score bodies of `POST /api/public/scores` (one object, or an array of them, each item
//! parsed like a `score-create` body): every item of an array is either a score or an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::score::{parse_scores_body, ParsedScore, ScoresBody};

fuzz_target!(|data: &[u8]| {
    // A score that names a config gets its data type from the config.
    let check = |score: &ParsedScore| {
        let (record, typed) = match score {
            ParsedScore::Ready(record) => (record, true),
            ParsedScore::Pending(pending) => (&pending.record, false),
        };
        assert!(record.name.as_deref().is_some_and(|name| !name.is_empty()));
        assert_eq!(record.data_type.is_some(), typed);
    };
    match parse_scores_body(data, spindle_fuzz::NOW, &mut spindle_fuzz::fresh_ids()) {
        Ok(ScoresBody::One(score)) => check(&score),
        Ok(ScoresBody::Many { scores, errors }) => {
            let items = serde_json::from_slice::<serde_json::Value>(data)
                .ok()
                .and_then(|root| root.as_array().map(Vec::len))
                .expect("an array body");
            assert_eq!(scores.len() + errors.len(), items);
            scores.iter().for_each(check);
        }
        Err(_) => {}
    }
});
