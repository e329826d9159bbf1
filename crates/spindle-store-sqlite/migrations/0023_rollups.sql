-- Rollups kept by the writer (`spindle_store::rollups`): per project, hour and key, the
-- observations' counts, token and cost sums, their latency histogram, and the scores'
-- counts and value sums. Every write adds its deltas with additive upserts in its own
-- transaction. Absent text is '' and an absent prompt version 0 (keys hold no NULL).
-- Rows whose counts went back to 0 may stay; reads ignore them.

CREATE TABLE observation_rollups (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version INTEGER NOT NULL,
    observation_count INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version)
) WITHOUT ROWID;

CREATE TABLE observation_latency_buckets (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    observation_count INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version,
                 bucket)
) WITHOUT ROWID;

CREATE TABLE score_rollups (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    data_type TEXT NOT NULL,
    string_value TEXT NOT NULL,
    score_count INTEGER NOT NULL,
    value_count INTEGER NOT NULL,
    value_sum REAL NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, source, data_type, string_value)
) WITHOUT ROWID;

-- Projects whose rollups are still to be built from their raw rows (every project that
-- existed before this migration); the start-up step builds them and removes the row.
CREATE TABLE rollups_pending (
    project_id TEXT PRIMARY KEY
);
INSERT INTO rollups_pending (project_id) SELECT id FROM projects;
