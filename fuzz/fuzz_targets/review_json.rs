//! Review bodies of `POST /api/public/annotation-queues`, its items, item updates and
//! assignments, and `POST /api/public/comments`: a body is a valid request (names, ids and
//! content present and within their limits, a queue item never a prompt) or an error naming
//! the field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_ingest::review::{
    parse_assignment_body, parse_comment_body, parse_queue_body, parse_queue_item_body,
    parse_queue_item_update_body,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(queue) = parse_queue_body(data) {
        assert!(!queue.name.trim().is_empty());
        assert!(!queue.score_config_ids.is_empty());
    }
    if let Ok(item) = parse_queue_item_body(data) {
        assert!(!item.object_id.is_empty());
        assert!(item.object_type.queueable());
    }
    let _ = parse_queue_item_update_body(data);
    if let Ok(user_id) = parse_assignment_body(data) {
        assert!(!user_id.is_empty());
    }
    if let Ok(comment) = parse_comment_body(data) {
        assert!(!comment.content.is_empty());
        assert!(comment.content.chars().count() <= spindle_core::review::MAX_COMMENT_LEN);
        assert!(!comment.object_id.is_empty());
    }
});
