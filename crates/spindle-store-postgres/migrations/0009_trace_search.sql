-- Version 9: full-text search moves out of the trace and observation rows into
-- `trace_search`, one insert-only row per trace and write: the distinct words of the input
-- and output that the write added to the trace (its own and its observations'). Search
-- answers trace ids, so one set of words per trace and write is enough, and the words a
-- trace's spans share (a conversation's history repeats in each generation) are indexed
-- once instead of once per observation. The per-observation GIN index was the largest cost
-- of PostgreSQL ingest (about a third of PostgreSQL's CPU per span, BENCHMARKS.md).
--
-- When a write changes text that was already indexed, the writer replaces the trace's rows
-- with the words of its current text, so a search never matches words that are gone.
CREATE TABLE trace_search (
    project_id text COLLATE "C" NOT NULL,
    trace_id   text COLLATE "C" NOT NULL,
    words      tsvector NOT NULL
);
CREATE INDEX trace_search_by_trace ON trace_search (project_id, trace_id);

-- Existing words move over as they are (one row per trace or observation).
INSERT INTO trace_search (project_id, trace_id, words)
    SELECT project_id, id, search FROM traces WHERE search IS NOT NULL AND search <> ''::tsvector;
INSERT INTO trace_search (project_id, trace_id, words)
    SELECT project_id, trace_id, search FROM observations
    WHERE trace_id IS NOT NULL AND search IS NOT NULL AND search <> ''::tsvector;

CREATE INDEX trace_search_words ON trace_search USING gin (words);

DROP INDEX observations_search;
DROP INDEX traces_search;
ALTER TABLE observations DROP COLUMN search;
ALTER TABLE traces DROP COLUMN search;
