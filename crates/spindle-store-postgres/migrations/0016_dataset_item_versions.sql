-- The history of dataset items: every upsert records the item as it then was and every delete
-- a row marked `deleted`, each valid from its `valid_from` (microseconds) until the item's next
-- row, so the items list can answer "as they were at time T". Two writes of one item in the
-- same microsecond keep the later. Items stored before this migration start their history with
-- their current state from their creation. The item columns are those of `dataset_items`.

CREATE TABLE dataset_item_versions (LIKE dataset_items);
ALTER TABLE dataset_item_versions
    ADD COLUMN valid_from bigint NOT NULL,
    ADD COLUMN deleted integer NOT NULL,
    ADD PRIMARY KEY (project_id, id, valid_from);
CREATE INDEX dataset_item_versions_by_dataset
    ON dataset_item_versions (project_id, dataset_id, valid_from);

INSERT INTO dataset_item_versions
SELECT *, created_at, 0 FROM dataset_items;
