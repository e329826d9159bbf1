//! The administration API's bodies (a project, a membership, a project key), a media
//! registration and its upload report, and a bulk trace deletion: a body is a valid request
//! (its required fields present and within their limits) or an error naming the field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::admin::{
    parse_key_body, parse_membership_body, parse_project_body, PROJECT_NAME_CHARS,
};
use spindle_ingest::media::{
    parse_media_body, parse_media_patch_body, parse_trace_ids_body, MAX_DELETED_TRACES,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(project) = parse_project_body(data) {
        let chars = project.name.chars().count();
        assert!((PROJECT_NAME_CHARS.0..=PROJECT_NAME_CHARS.1).contains(&chars));
        assert_eq!(project.name.trim(), project.name);
        assert!(!matches!(project.retention, Some(Some(1 | 2)) | Some(Some(0))));
        if let Some(metadata) = &project.metadata {
            let parsed: serde_json::Value = serde_json::from_str(metadata).expect("JSON text");
            assert!(parsed.is_object());
        }
    }
    if let Ok(member) = parse_membership_body(data, true) {
        assert!(member.role.is_some());
    }
    let _ = parse_membership_body(data, false);
    if let Ok(key) = parse_key_body(data) {
        if let Some((public_key, secret_key)) = key.key_pair {
            assert!(public_key.starts_with("pk-lf-") && secret_key.starts_with("sk-lf-"));
        }
    }
    if let Ok(media) = parse_media_body(data) {
        assert!(media.content_length >= 0);
        if let Some(item) = &media.dataset_item {
            assert!(!item.dataset_id.is_empty() && !item.dataset_item_id.is_empty());
            assert!(spindle_core::dataset::ITEM_MEDIA_FIELDS.contains(&item.field.as_str()));
        }
    }
    let _ = parse_media_patch_body(data);
    if let Ok(ids) = parse_trace_ids_body(data) {
        assert!((1..=MAX_DELETED_TRACES).contains(&ids.len()));
    }
});
