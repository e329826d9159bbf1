-- The latency buckets of the observations and of the traces per UTC day as well as per hour:
-- the same key columns, `hour` holding the start of the day (`NO_HOUR` kept as it is), added
-- to by the writer in the transaction of every change, as the hourly ones are
-- (`spindle_store::rollups`). A metrics query reads the whole days of its range here (a
-- day's buckets in one row each instead of up to 24), the whole hours at their ends from the
-- hourly tables, and the partial hours from the raw rows.

CREATE TABLE observation_latency_days (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version BIGINT NOT NULL,
    level TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    observation_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, environment, type, name, model, prompt_name, prompt_version,
                 level, bucket)
);

CREATE TABLE trace_latency_days (
    project_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    release TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    trace_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, environment, name, release, bucket)
);

-- Existing buckets summed by day (exact: the hourly rows hold what the raw rows add up to).
INSERT INTO observation_latency_days
SELECT project_id,
       CASE WHEN hour = -9223372036854775807 - 1 THEN hour
            ELSE hour - (((hour % 86400000000) + 86400000000) % 86400000000) END AS day,
       environment, type, name, model, prompt_name, prompt_version, level, bucket,
       sum(observation_count)
FROM observation_latency_buckets
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
HAVING sum(observation_count) <> 0;

INSERT INTO trace_latency_days
SELECT project_id,
       CASE WHEN hour = -9223372036854775807 - 1 THEN hour
            ELSE hour - (((hour % 86400000000) + 86400000000) % 86400000000) END AS day,
       environment, name, release, bucket, sum(trace_count)
FROM trace_latency_buckets
GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(trace_count) <> 0;
