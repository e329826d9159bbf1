-- The attribute rollups kept by the writers (`spindle_store::rollups`,
-- `rollups/attributes.rs`): the observations per attribute of their trace (kind `user`,
-- `name`, `release` or `tag`, and its value), hour of their start, environment, type, model
-- and level, with their count, token sums, cost in nano-USD and latency buckets per hour and
-- per UTC day. They are deltas of the `trace_totals` rows, which now also hold their trace's
-- tags and a breakdown of its observations and of its scores (`breakdown`, `score_breakdown`,
-- JSON arrays). Absent text is '' (keys hold no NULL); rows whose counts went back to 0 may
-- stay, reads ignore them.

ALTER TABLE trace_totals ADD COLUMN IF NOT EXISTS tags text;
ALTER TABLE trace_totals ADD COLUMN IF NOT EXISTS breakdown text;
ALTER TABLE trace_totals ADD COLUMN IF NOT EXISTS score_breakdown text;

CREATE TABLE IF NOT EXISTS observation_attribute_rollups (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    model TEXT NOT NULL,
    level TEXT NOT NULL,
    observation_count BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    cost_nanos BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, type, model, level)
);

CREATE TABLE IF NOT EXISTS observation_attribute_buckets (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    model TEXT NOT NULL,
    level TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, type, model, level, bucket)
);

CREATE TABLE IF NOT EXISTS observation_attribute_days (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    model TEXT NOT NULL,
    level TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, type, model, level, bucket)
);

-- The score rollups (`score_rollups`) again under each attribute of the scores' traces.

CREATE TABLE IF NOT EXISTS score_attribute_rollups (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    data_type TEXT NOT NULL,
    string_value TEXT NOT NULL,
    score_count BIGINT NOT NULL,
    value_count BIGINT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, name, source, data_type,
                 string_value)
);

-- The trace rollups (`trace_rollups`, with their latency buckets per hour and per day) again
-- under each user and each tag of the traces.

CREATE TABLE IF NOT EXISTS trace_attribute_rollups (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    trace_count BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    cost_nanos BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, name, release)
);

CREATE TABLE IF NOT EXISTS trace_attribute_buckets (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    trace_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, name, release, bucket)
);

CREATE TABLE IF NOT EXISTS trace_attribute_days (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    trace_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind, value, hour, environment, name, release, bucket)
);

-- Existing projects get their totals rows recomputed (the new columns) and every rollup
-- rebuilt from their raw rows at start-up.
INSERT INTO rollups_pending (project_id) SELECT id FROM projects ON CONFLICT DO NOTHING;
