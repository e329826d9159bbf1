-- Version 10: the index of scores by name and value also carries the trace id, so a trace
-- list filtered by a score range reads the matching trace ids from the index alone.
DROP INDEX scores_by_name_value;
CREATE INDEX scores_by_name_value ON scores (project_id, name, value, timestamp, id)
    INCLUDE (trace_id);
