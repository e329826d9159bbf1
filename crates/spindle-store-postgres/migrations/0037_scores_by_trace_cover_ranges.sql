-- A traces list filtered by a score range in time order walks the traces and probes each
-- one's scores for the range's name and value (`score_range_probe`): with the name and the
-- value in the index on the scores' trace, those probes are index-only scans instead of a
-- heap read per score.
DROP INDEX IF EXISTS scores_by_trace;
CREATE INDEX scores_by_trace ON scores (project_id, trace_id) INCLUDE (name, value);
