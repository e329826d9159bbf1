-- The trace model rollups kept by the writers (`spindle_store::rollups`, `rollups/traces.rs`):
-- per project, hour of the trace's timestamp, environment, trace name and model, the count
-- of traces with observations of the model and the sums of those observations, what the
-- daily metrics report per day and model. They are deltas of the `trace_totals` rows, which
-- now also hold their trace's observations per model (`models`, a JSON array). Absent text
-- is '' (keys hold no NULL); rows whose counts went back to 0 may stay, reads ignore them.
-- The model sorts as `observations.model` does (the daily metrics order models by it).

ALTER TABLE trace_totals ADD COLUMN IF NOT EXISTS models text;

CREATE TABLE IF NOT EXISTS trace_model_rollups (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT COLLATE "C" NOT NULL,
    trace_count BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    cost_nanos BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, model)
);

-- Existing projects get their totals rows recomputed (the new column) and every rollup
-- rebuilt from their raw rows at start-up.
INSERT INTO rollups_pending (project_id) SELECT id FROM projects ON CONFLICT DO NOTHING;
