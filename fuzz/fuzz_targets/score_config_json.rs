//! Score config bodies of `POST /api/public/score-configs` and `PATCH
//! /api/public/score-configs/{configId}`: a body is a valid config (a checked name, a range
//! only on numeric configs and in order, unique categories) or an error naming the field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_core::score_config::ConfigDataType;
use spindle_ingest::score_config::{parse_score_config_body, parse_score_config_patch};

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = parse_score_config_body(data) {
        assert!(!config.name.is_empty() && config.name.chars().count() <= 35);
        if let (Some(min), Some(max)) = (config.min_value, config.max_value) {
            assert!(min < max);
        }
        match config.data_type {
            ConfigDataType::Numeric | ConfigDataType::Text => assert!(config.categories.is_empty()),
            ConfigDataType::Categorical | ConfigDataType::Boolean => {
                assert!(!config.categories.is_empty())
            }
        }
    }
    if let Ok(patch) = parse_score_config_patch(data) {
        assert!(!patch.is_empty());
    }
});
