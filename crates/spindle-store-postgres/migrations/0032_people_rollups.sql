-- The people rollups kept by the writers (`spindle_store::rollups`, `rollups/people.rs`): per
-- project, kind ('user' or 'session'), user or session id, UTC day of the trace's time (its
-- timestamp, or creation without one) and environment, the count of traces and the sums of
-- their tokens and cost in nano-USD. Deltas of the `trace_totals` rows, as the trace rollups
-- are; the users and sessions lists sum them over the whole days of their range. Absent
-- environment is '' (keys hold no NULL); rows whose counts went back to 0 may stay, reads
-- ignore them.

CREATE TABLE IF NOT EXISTS people_rollups (
    project_id text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    day bigint NOT NULL,
    environment text COLLATE "C" NOT NULL,
    trace_count bigint NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    total_tokens bigint NOT NULL,
    cost_nanos bigint NOT NULL,
    PRIMARY KEY (project_id, kind, id, day, environment)
);

-- The lists read the partial days at the edges of their range from `trace_totals` by time,
-- and a user's latest observation end by one seek.
CREATE INDEX IF NOT EXISTS trace_totals_by_time ON trace_totals (project_id, trace_time);
CREATE INDEX IF NOT EXISTS trace_totals_by_user_end
    ON trace_totals (project_id, user_id, last_end);

-- Existing projects get every rollup rebuilt from their raw rows at start-up.
INSERT INTO rollups_pending (project_id) SELECT id FROM projects ON CONFLICT DO NOTHING;
