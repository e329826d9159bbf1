-- One row per trace with what its observations add up to, kept by the writer (see
-- spindle-store's trace_totals.rs): traces sorted by cost or latency walk its indexes, and
-- the users and sessions lists sum it instead of joining the observations. Built here from
-- the rows a database already holds.

CREATE TABLE trace_totals (
    project_id        text COLLATE "C" NOT NULL,
    trace_id          text COLLATE "C" NOT NULL,
    -- The trace's timestamp, or its creation time when it has none.
    trace_time        bigint NOT NULL,
    timestamp         bigint,
    user_id           text COLLATE "C",
    session_id        text COLLATE "C",
    environment       text COLLATE "C",
    observation_count bigint NOT NULL,
    total_cost        double precision NOT NULL,
    usage_input       bigint NOT NULL,
    usage_output      bigint NOT NULL,
    usage_total       bigint NOT NULL,
    start_min         bigint,
    end_max           bigint,
    -- end_max - start_min in microseconds (NULL without observations).
    latency           bigint,
    -- The latest end, or start when an observation has no end.
    last_end          bigint,
    -- 0 = DEBUG, 1 = DEFAULT, 2 = WARNING, 3 = ERROR.
    level_rank        bigint NOT NULL,
    PRIMARY KEY (project_id, trace_id)
);
CREATE INDEX trace_totals_by_cost ON trace_totals (project_id, total_cost, trace_id);
-- NULLS FIRST: walked forward for ascending and backward for descending latency, as the
-- traces list sorts it (no latency first, then last).
CREATE INDEX trace_totals_by_latency
    ON trace_totals (project_id, latency ASC NULLS FIRST, trace_id);
CREATE INDEX trace_totals_by_user ON trace_totals (project_id, user_id, trace_time);
CREATE INDEX trace_totals_by_session ON trace_totals (project_id, session_id, trace_time);

INSERT INTO trace_totals (project_id, trace_id, trace_time, timestamp, user_id, session_id,
    environment, observation_count, total_cost, usage_input, usage_output, usage_total,
    start_min, end_max, latency, last_end, level_rank)
SELECT t.project_id, t.id, coalesce(t.timestamp, t.created_at), t.timestamp, t.user_id,
    t.session_id, t.environment, count(o.id),
    coalesce(sum(o.total_cost::numeric), 0.0)::float8,
    coalesce(sum(o.usage_input), 0)::int8, coalesce(sum(o.usage_output), 0)::int8,
    coalesce(sum(o.usage_total), 0)::int8, min(o.start_time),
    max(greatest(o.end_time, o.start_time)),
    max(greatest(o.end_time, o.start_time)) - min(o.start_time),
    max(coalesce(o.end_time, o.start_time)),
    coalesce(max(CASE o.level WHEN 'DEBUG' THEN 0 WHEN 'WARNING' THEN 2
        WHEN 'ERROR' THEN 3 ELSE 1 END), 1)
FROM traces t LEFT JOIN observations o ON o.project_id = t.project_id AND o.trace_id = t.id
GROUP BY t.project_id, t.id;
