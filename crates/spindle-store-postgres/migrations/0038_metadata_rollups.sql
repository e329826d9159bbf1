-- Rolled-up metadata keys (`spindle_store::metadata_rollups`): the keys of trace metadata a
-- project chose, whose values the attribute rollups key as kind `metadata` (value: the pair
-- `["key","value"]` as JSON). `ready` is 1 once a sweep that started after the key was added
-- has recomputed every totals row; reads take a key's rollups only then.
CREATE TABLE rolled_metadata_keys (
    project_id text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    ready bigint NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, key)
);

-- A running sweep of a project's totals rows after a change of its keys: the last trace id
-- done ('' before the first chunk).
CREATE TABLE metadata_sweeps (
    project_id text COLLATE "C" PRIMARY KEY,
    after_trace_id text COLLATE "C" NOT NULL
);

-- Each totals row's values of the keys listed when it was computed (a JSON array of
-- [key, value] pairs, NULL without any): what the rollups hold for the trace.
ALTER TABLE trace_totals ADD COLUMN metadata_values text;
