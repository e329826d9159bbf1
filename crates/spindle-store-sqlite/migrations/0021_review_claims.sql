-- Who completed each queue item (`completed_by_user_id`, NULL when an API key did), and the
-- reviewer review mode handed a pending item to (`claimed_by_user_id`) until
-- `claim_expires_at`, so that two reviewers of one queue never get the same item.

ALTER TABLE annotation_queue_items ADD COLUMN completed_by_user_id TEXT;
ALTER TABLE annotation_queue_items ADD COLUMN claimed_by_user_id TEXT;
ALTER TABLE annotation_queue_items ADD COLUMN claim_expires_at INTEGER;
