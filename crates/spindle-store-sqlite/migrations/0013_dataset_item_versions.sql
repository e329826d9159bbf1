-- The history of dataset items: every upsert records the item as it then was and every delete
-- a row marked `deleted`, each valid from its `valid_from` (microseconds) until the item's next
-- row, so the items list can answer "as they were at time T". Two writes of one item in the
-- same microsecond keep the later. Items stored before this migration start their history with
-- their current state from their creation.

CREATE TABLE dataset_item_versions (
    id                    TEXT NOT NULL,
    project_id            TEXT NOT NULL,
    dataset_id            TEXT NOT NULL,
    status                TEXT NOT NULL,
    input                 TEXT,
    expected_output       TEXT,
    metadata              TEXT,
    source_trace_id       TEXT,
    source_observation_id TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    valid_from            INTEGER NOT NULL,
    deleted               INTEGER NOT NULL,
    PRIMARY KEY (project_id, id, valid_from)
);
CREATE INDEX dataset_item_versions_by_dataset
    ON dataset_item_versions (project_id, dataset_id, valid_from);

INSERT INTO dataset_item_versions
SELECT id, project_id, dataset_id, status, input, expected_output, metadata, source_trace_id,
       source_observation_id, created_at, updated_at, created_at, 0
FROM dataset_items;
