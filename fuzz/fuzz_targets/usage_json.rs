//! Usage maps (`usageDetails`, `langfuse.observation.usage_details`, flat `gen_ai.usage.*`
//! keys) to usage types: reached from every ingestion path, so fuzzed on their own too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) {
        for usage in [
            spindle_ingest::usage::from_json_map(&map),
            spindle_ingest::usage::from_flat_usage(&map),
        ] {
            assert!(usage.values().all(|count| *count >= 0), "{usage:?}");
        }
    }
});
