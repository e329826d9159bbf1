//! Score bodies of `POST /api/public/scores` (one object, or an array of them).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use spindle_core::merge::{tiebreak_of, Stamp};

const NOW: i64 = 1_795_236_498_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let items = match &root {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        other => vec![other],
    };
    let mut counter = 0u64;
    let mut fresh_id = || {
        counter += 1;
        format!("fuzz-{counter}")
    };
    for (index, item) in items.into_iter().enumerate() {
        if let Value::Object(object) = item {
            let stamp = Stamp::explicit(NOW, Stamp::RANK_CREATE, tiebreak_of(data));
            let path = format!("[{index}]");
            if let Ok(score) =
                spindle_ingest::score::parse_score(object, &path, NOW, stamp, &mut fresh_id)
            {
                assert!(score.name.as_deref().is_some_and(|name| !name.is_empty()));
                assert!(score.data_type.is_some());
            }
        }
    }
});
