-- The version of the dataset item a run item ran on: the `valid_from` (microseconds) of the
-- item's state the run read, NULL for run items stored before it was recorded. Run items are
-- also found by run and item (the comparison of runs reads each item's run items).

ALTER TABLE dataset_run_items ADD COLUMN dataset_version bigint;
CREATE INDEX dataset_run_items_by_run_item ON dataset_run_items (project_id, run_id, dataset_item_id);
