-- Each session's totals over all its traces, kept by the writers (`spindle_store::rollups`,
-- `rollups/people.rs`): the count of traces, the sums of their tokens and cost in nano-USD
-- (deltas of the `trace_totals` rows, as the people rollups are), and the times of its first
-- and last trace (recomputed from `trace_totals` by the statement that adds a delta). The
-- sessions list answers the sessions its range contains whole from these rows, sorted by an
-- index, and sums only the sessions that straddle an end of its range from `trace_totals`.
-- A session whose traces are all gone keeps its row with a count of 0 and no times.

CREATE TABLE session_totals (
    project_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    trace_count INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    first_time INTEGER,
    last_time INTEGER,
    PRIMARY KEY (project_id, session_id)
) WITHOUT ROWID;

-- The sessions a range contains, counted without reading the rows; those that straddle its
-- start; and the sorts by cost and by last trace.
CREATE INDEX session_totals_by_first ON session_totals
    (project_id, first_time, last_time, trace_count, total_tokens, cost_nanos);
CREATE INDEX session_totals_by_last ON session_totals (project_id, last_time, first_time);
CREATE INDEX session_totals_by_cost ON session_totals (project_id, cost_nanos);

-- Existing projects get every rollup rebuilt from their raw rows at start-up.
INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
