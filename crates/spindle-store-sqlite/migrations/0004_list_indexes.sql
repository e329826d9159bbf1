-- Version 4: trace lists filtered by user, session or name read their newest page straight
-- from an index in time order, instead of sorting every matching trace.
DROP INDEX traces_by_user;
DROP INDEX traces_by_session;
DROP INDEX traces_by_name;
CREATE INDEX traces_by_user ON traces (project_id, user_id, timestamp, id);
CREATE INDEX traces_by_session ON traces (project_id, session_id, timestamp, id);
CREATE INDEX traces_by_name ON traces (project_id, name, timestamp, id);

-- The fixed planner statistics of version 2, for the new shape of these indexes.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl = 'traces' AND idx IN ('traces_by_user', 'traces_by_session', 'traces_by_name');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('traces', 'traces_by_user', '1000000 1000000 50 2 1'),
    ('traces', 'traces_by_session', '1000000 1000000 10 2 1'),
    ('traces', 'traces_by_name', '1000000 1000000 5000 2 1');
ANALYZE sqlite_schema;
