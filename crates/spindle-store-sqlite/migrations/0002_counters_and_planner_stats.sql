-- Version 2: an observation counter per project, and fixed planner statistics.

-- Unfiltered observation lists read their total from here instead of counting rows.
ALTER TABLE project_stats ADD COLUMN observation_count INTEGER NOT NULL DEFAULT 0;
INSERT INTO project_stats (project_id, trace_count, observation_count)
    SELECT project_id, 0, count(*) FROM observations WHERE true GROUP BY project_id
    ON CONFLICT (project_id) DO UPDATE SET observation_count = excluded.observation_count;

-- Fixed statistics describe the shape of the data to the query planner, so plans do not
-- depend on whether ANALYZE ever ran: project_id selects almost everything, an id one row, a
-- trace id a few observations, a user or session tens of traces. Without them the planner
-- prefers walking a time index (to avoid a sort) over an equality lookup, which scans every
-- row of a project for a query like "the observations of this trace".
-- `ANALYZE sqlite_schema` creates sqlite_stat1 without analyzing any data table.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl IN ('traces', 'observations', 'scores', 'media', 'media_blobs');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('traces', 'sqlite_autoindex_traces_1', '1000000 1000000 1'),
    ('traces', 'traces_by_time', '1000000 1000000 2 1'),
    ('traces', 'traces_by_user', '1000000 1000000 50'),
    ('traces', 'traces_by_session', '1000000 1000000 10'),
    ('traces', 'traces_by_name', '1000000 1000000 5000'),
    ('observations', 'sqlite_autoindex_observations_1', '10000000 10000000 1'),
    ('observations', 'observations_by_trace', '10000000 10000000 10'),
    ('observations', 'observations_by_time', '10000000 10000000 2 1'),
    ('scores', 'sqlite_autoindex_scores_1', '1000000 1000000 1'),
    ('scores', 'scores_by_trace', '1000000 1000000 3'),
    ('scores', 'scores_by_time', '1000000 1000000 2 1'),
    ('media', 'sqlite_autoindex_media_1', '100000 100000 1'),
    ('media_blobs', 'sqlite_autoindex_media_blobs_1', '100000 100000 1');
ANALYZE sqlite_schema;
