-- One row per trace with what its observations add up to, kept by the writer (see
-- spindle-store's trace_totals.rs): traces sorted by cost or latency walk its indexes, and
-- the users and sessions lists sum it instead of joining the observations. Built here from
-- the rows a database already holds.

CREATE TABLE trace_totals (
    project_id        TEXT NOT NULL,
    trace_id          TEXT NOT NULL,
    -- The trace's timestamp, or its creation time when it has none.
    trace_time        INTEGER NOT NULL,
    timestamp         INTEGER,
    user_id           TEXT,
    session_id        TEXT,
    environment       TEXT,
    observation_count INTEGER NOT NULL,
    total_cost        REAL NOT NULL,
    usage_input       INTEGER NOT NULL,
    usage_output      INTEGER NOT NULL,
    usage_total       INTEGER NOT NULL,
    start_min         INTEGER,
    end_max           INTEGER,
    -- end_max - start_min in microseconds (NULL without observations).
    latency           INTEGER,
    -- The latest end, or start when an observation has no end.
    last_end          INTEGER,
    -- 0 = DEBUG, 1 = DEFAULT, 2 = WARNING, 3 = ERROR.
    level_rank        INTEGER NOT NULL,
    PRIMARY KEY (project_id, trace_id)
);
CREATE INDEX trace_totals_by_cost ON trace_totals (project_id, total_cost, trace_id);
CREATE INDEX trace_totals_by_latency ON trace_totals (project_id, latency, trace_id);
CREATE INDEX trace_totals_by_user ON trace_totals (project_id, user_id, trace_time);
CREATE INDEX trace_totals_by_session ON trace_totals (project_id, session_id, trace_time);

-- Fixed planner statistics, shaped like those of the traces (see migration 0002).
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl = 'trace_totals';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('trace_totals', 'sqlite_autoindex_trace_totals_1', '1000000 1000000 1'),
    ('trace_totals', 'trace_totals_by_cost', '1000000 1000000 2 1'),
    ('trace_totals', 'trace_totals_by_latency', '1000000 1000000 2 1'),
    ('trace_totals', 'trace_totals_by_user', '1000000 1000000 50 2'),
    ('trace_totals', 'trace_totals_by_session', '1000000 1000000 10 2');
ANALYZE sqlite_schema;

INSERT INTO trace_totals (project_id, trace_id, trace_time, timestamp, user_id, session_id,
    environment, observation_count, total_cost, usage_input, usage_output, usage_total,
    start_min, end_max, latency, last_end, level_rank)
SELECT t.project_id, t.id, coalesce(t.timestamp, t.created_at), t.timestamp, t.user_id,
    t.session_id, t.environment, count(o.id), coalesce(sum(o.total_cost), 0.0),
    CAST(total(o.usage_input) AS INTEGER), CAST(total(o.usage_output) AS INTEGER),
    CAST(total(o.usage_total) AS INTEGER), min(o.start_time),
    max(coalesce(max(o.end_time, o.start_time), o.start_time)),
    max(coalesce(max(o.end_time, o.start_time), o.start_time)) - min(o.start_time),
    max(coalesce(o.end_time, o.start_time)),
    coalesce(max(CASE o.level WHEN 'DEBUG' THEN 0 WHEN 'WARNING' THEN 2
        WHEN 'ERROR' THEN 3 ELSE 1 END), 1)
FROM traces t LEFT JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
GROUP BY t.project_id, t.id;
