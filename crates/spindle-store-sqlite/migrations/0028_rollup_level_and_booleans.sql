-- The observation rollups keyed by level too (`ObservationKey::level`; an absent level is
-- 'DEFAULT', as the metrics' observations view reads it), and boolean scores keyed by
-- `(value <> 0)` ('true', 'false', '' without a value) in score_rollups' string_value. Both
-- observation tables are made anew, empty, with the level in their keys, and every project
-- is marked pending: the start-up step rebuilds all of its rollups from the raw rows
-- (score_rollups too), and until then reads take the raw rows.

DROP TABLE observation_latency_buckets;
DROP TABLE observation_rollups;

CREATE TABLE observation_rollups (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version INTEGER NOT NULL,
    level TEXT NOT NULL,
    observation_count INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version,
                 level)
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
    level TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    observation_count INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version,
                 level, bucket)
) WITHOUT ROWID;

CREATE INDEX observation_rollups_by_prompt
    ON observation_rollups (project_id, prompt_name, prompt_version);

INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
