//! Custom model bodies of `POST /api/public/models` and `PUT /api/public/models/{id}`: a body
//! is a valid model (its price entry builds) or an error naming the field.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed =
        spindle_ingest::model::parse_model_body("project", "model".into(), data, spindle_fuzz::NOW);
    if let Ok(model) = parsed {
        assert!(!model.model_name.trim().is_empty());
        assert!(!model.match_pattern.is_empty());
        assert!(model.to_price().is_ok());
    }
});
