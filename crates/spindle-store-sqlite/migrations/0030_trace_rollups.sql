-- The trace rollups kept by the writers (`spindle_store::rollups`, `rollups/traces.rs`): per
-- project, hour of the trace's timestamp, environment, trace name and release, the count of
-- traces and the sums of their totals, and a histogram of their latencies. They are deltas
-- of the `trace_totals` rows, which now also copy the trace's name and release and count
-- its ERROR observations. Absent text is '' (keys hold no NULL); rows whose counts went back
-- to 0 may stay, reads ignore them.

ALTER TABLE trace_totals ADD COLUMN name TEXT;
ALTER TABLE trace_totals ADD COLUMN release TEXT;
ALTER TABLE trace_totals ADD COLUMN error_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE trace_rollups (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    trace_count INTEGER NOT NULL,
    observation_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, release)
) WITHOUT ROWID;

CREATE TABLE trace_latency_buckets (
    project_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    trace_count INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, release, bucket)
) WITHOUT ROWID;

-- Existing projects get their totals rows recomputed (the new columns) and every rollup
-- rebuilt from their raw rows at start-up.
INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
