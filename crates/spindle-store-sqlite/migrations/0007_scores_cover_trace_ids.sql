-- Version 7: the index of scores by name and value also carries the trace id, so a trace list
-- filtered by a score range reads the matching trace ids from the index alone.
DROP INDEX scores_by_name_value;
CREATE INDEX scores_by_name_value ON scores (project_id, name, value, timestamp, id, trace_id);

-- The fixed planner statistics (version 6's, with the added column).
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE idx = 'scores_by_name_value';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('scores', 'scores_by_name_value', '1000000 1000000 100000 10 2 1 1');
ANALYZE sqlite_schema;
