-- Version 7: a full-text index for search. `trace_search` (FTS5, contentless, no positions)
-- holds insert-only rows of a trace's distinct words; `trace_search_rows` says whose trace
-- each row belongs to. A write adds one row per trace with the distinct words of the text it
-- added (the trace's input and output and its observations'), so the words a trace's spans
-- share are indexed once per write rather than once per span; a write that changes text
-- indexed before replaces that trace's rows (see `crate::search`).
CREATE VIRTUAL TABLE trace_search USING fts5(
    words,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE trace_search_rows (
    rowid      INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    trace_id   TEXT NOT NULL
);
CREATE INDEX trace_search_rows_by_trace ON trace_search_rows (project_id, trace_id);

-- Text written before this version: one row per trace and per observation, its text as it is
-- (the tokenizer folds case and accents and splits words as the writer does). Row ids come
-- from the source rows' own: even for traces, odd for observations.
INSERT INTO trace_search_rows (rowid, project_id, trace_id)
    SELECT rowid * 2, project_id, id FROM traces
    WHERE coalesce(input, '') <> '' OR coalesce(output, '') <> '';
INSERT INTO trace_search (rowid, words)
    SELECT rowid * 2, coalesce(input, '') || ' ' || coalesce(output, '') FROM traces
    WHERE coalesce(input, '') <> '' OR coalesce(output, '') <> '';
INSERT INTO trace_search_rows (rowid, project_id, trace_id)
    SELECT rowid * 2 + 1, project_id, trace_id FROM observations
    WHERE trace_id IS NOT NULL AND (coalesce(input, '') <> '' OR coalesce(output, '') <> '');
INSERT INTO trace_search (rowid, words)
    SELECT rowid * 2 + 1, coalesce(input, '') || ' ' || coalesce(output, '') FROM observations
    WHERE trace_id IS NOT NULL AND (coalesce(input, '') <> '' OR coalesce(output, '') <> '');
