//! Dataset bodies of `POST /api/public/v2/datasets`, `POST /api/public/dataset-items` and
//! `POST /api/public/dataset-run-items`: a body is a valid request (required names present,
//! every kept value JSON, schemas objects or booleans) or an error naming the field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::dataset::{parse_dataset_body, parse_dataset_item_body, parse_run_item_body};

fn is_json(text: &Option<String>) -> bool {
    text.as_deref()
        .is_none_or(|text| serde_json::from_str::<serde_json::Value>(text).is_ok())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(dataset) = parse_dataset_body(data) {
        assert!(!dataset.name.trim().is_empty());
        assert!(is_json(&dataset.metadata));
        for schema in [&dataset.input_schema, &dataset.expected_output_schema] {
            let value = schema.as_deref().map(serde_json::from_str::<serde_json::Value>);
            assert!(value.is_none_or(|value| value.is_ok_and(|v| v.is_object() || v.is_boolean())));
        }
    }
    if let Ok(item) = parse_dataset_item_body(data) {
        assert!(!item.dataset_name.trim().is_empty());
        assert!(item.id.as_deref().is_none_or(|id| !id.is_empty() && id.chars().count() <= 255));
        for value in [&item.input, &item.expected_output, &item.metadata] {
            assert!(is_json(value));
        }
    }
    if let Ok(run_item) = parse_run_item_body(data) {
        assert!(!run_item.run_name.trim().is_empty());
        assert!(!run_item.dataset_item_id.is_empty());
        assert!(is_json(&run_item.metadata));
    }
});
