//! Prompt bodies of `POST /api/public/v2/prompts` and `PATCH …/versions/{version}`: a body is
//! a valid prompt (a checked name, content that is JSON of its type, a JSON config, checked
//! labels without `latest`) or an error naming the field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_core::prompt::{check_label, check_name, references, PromptType, LATEST_LABEL};

fuzz_target!(|data: &[u8]| {
    if let Ok(prompt) = spindle_ingest::prompt::parse_create_prompt_body(data) {
        assert!(check_name(&prompt.name, "name").is_ok());
        let content: serde_json::Value =
            serde_json::from_str(&prompt.prompt).expect("content is JSON");
        match prompt.prompt_type {
            PromptType::Text => assert!(content.is_string()),
            PromptType::Chat => assert!(content.is_array()),
        }
        serde_json::from_str::<serde_json::Value>(&prompt.config).expect("config is JSON");
        for label in &prompt.labels {
            assert!(check_label(label, "labels").is_ok());
            assert_ne!(label, LATEST_LABEL);
        }
        let _ = references(&prompt.prompt);
    }
    if let Ok(labels) = spindle_ingest::prompt::parse_new_labels_body(data) {
        assert!(labels.iter().all(|label| check_label(label, "newLabels").is_ok()));
    }
});
