-- Rollups kept by the writer (`spindle_store::rollups`): per project, hour and key, the
-- observations' counts, token and cost sums, their latency histogram, and the scores'
-- counts and value sums. Every write adds its deltas with additive upserts in its own
-- transaction. Absent text is '' and an absent prompt version 0 (keys hold no NULL).
-- Rows whose counts went back to 0 may stay; reads ignore them.

CREATE TABLE observation_rollups (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    cost_nanos BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version)
);

CREATE TABLE observation_latency_buckets (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version,
                 bucket)
);

CREATE TABLE score_rollups (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    data_type TEXT NOT NULL,
    string_value TEXT NOT NULL,
    score_count BIGINT NOT NULL,
    value_count BIGINT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, source, data_type, string_value)
);

-- Projects whose rollups are still to be built from their raw rows (every project that
-- existed before this migration); the start-up step builds them and removes the row.
CREATE TABLE rollups_pending (
    project_id TEXT PRIMARY KEY
);
INSERT INTO rollups_pending (project_id) SELECT id FROM projects;
