-- The people rollups kept by the writers (`spindle_store::rollups`, `rollups/people.rs`): per
-- project, kind ('user' or 'session'), user or session id, UTC day of the trace's time (its
-- timestamp, or creation without one) and environment, the count of traces and the sums of
-- their tokens and cost in nano-USD. Deltas of the `trace_totals` rows, as the trace rollups
-- are; the users and sessions lists sum them over the whole days of their range. Absent
-- environment is '' (keys hold no NULL); rows whose counts went back to 0 may stay, reads
-- ignore them.

CREATE TABLE people_rollups (
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    day INTEGER NOT NULL,
    environment TEXT NOT NULL,
    trace_count INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (project_id, kind, id, day, environment)
) WITHOUT ROWID;

-- The lists read the partial days at the edges of their range from `trace_totals` by time,
-- and a user's latest observation end by one seek.
CREATE INDEX trace_totals_by_time ON trace_totals (project_id, trace_time);
CREATE INDEX trace_totals_by_user_end ON trace_totals (project_id, user_id, last_end);

-- Fixed planner statistics, shaped like those of migration 0022.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE idx IN ('trace_totals_by_time', 'trace_totals_by_user_end');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('trace_totals', 'trace_totals_by_time', '1000000 1000000 2'),
    ('trace_totals', 'trace_totals_by_user_end', '1000000 1000000 50 2');
ANALYZE sqlite_schema;

-- Existing projects get every rollup rebuilt from their raw rows at start-up.
INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
