-- The trace model rollups kept by the writers (`spindle_store::rollups`, `rollups/traces.rs`):
-- per project, hour of the trace's timestamp, environment, trace name and model, the count
-- of traces with observations of the model and the sums of those observations, what the
-- daily metrics report per day and model. They are deltas of the `trace_totals` rows, which
-- now also hold their trace's observations per model (`models`, a JSON array). Absent text
-- is '' (keys hold no NULL); rows whose counts went back to 0 may stay, reads ignore them.

ALTER TABLE trace_totals ADD COLUMN models TEXT;

CREATE TABLE trace_model_rollups (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    trace_count INTEGER NOT NULL,
    observation_count INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, model)
) WITHOUT ROWID;

-- Existing projects get their totals rows recomputed (the new column) and every rollup
-- rebuilt from their raw rows at start-up.
INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
