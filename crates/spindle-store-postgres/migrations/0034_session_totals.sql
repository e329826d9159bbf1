-- Each session's totals over all its traces, kept by the writers (`spindle_store::rollups`,
-- `rollups/people.rs`): the count of traces, the sums of their tokens and cost in nano-USD
-- (deltas of the `trace_totals` rows, as the people rollups are), and the times of its first
-- and last trace (recomputed from `trace_totals` by the statement that adds a delta). The
-- sessions list answers the sessions its range contains whole from these rows, sorted by an
-- index, and sums only the sessions that straddle an end of its range from `trace_totals`.
-- A session whose traces are all gone keeps its row with a count of 0 and no times.

CREATE TABLE IF NOT EXISTS session_totals (
    project_id text COLLATE "C" NOT NULL,
    session_id text COLLATE "C" NOT NULL,
    trace_count bigint NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    total_tokens bigint NOT NULL,
    cost_nanos bigint NOT NULL,
    first_time bigint,
    last_time bigint,
    PRIMARY KEY (project_id, session_id)
);

-- The sessions a range contains, counted without reading the rows; those that straddle its
-- start; and the sorts by cost and by last trace.
CREATE INDEX IF NOT EXISTS session_totals_by_first ON session_totals
    (project_id, first_time, last_time, trace_count, total_tokens, cost_nanos);
CREATE INDEX IF NOT EXISTS session_totals_by_last ON session_totals (project_id, last_time, first_time);
CREATE INDEX IF NOT EXISTS session_totals_by_cost ON session_totals (project_id, cost_nanos);

-- Existing projects get every rollup rebuilt from their raw rows at start-up.
INSERT INTO rollups_pending (project_id) SELECT id FROM projects ON CONFLICT DO NOTHING;
