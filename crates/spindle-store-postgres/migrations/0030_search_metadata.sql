-- Search covers metadata (each key and its value, of the trace and of its observations) as
-- it covers input and output. The writers add metadata words from now on; the traces of
-- every project that existed before get theirs at start-up (`search.rs`,
-- `add_pending_metadata`), which adds one `trace_search` row per trace with the words of its
-- stored metadata and removes the project's row here.
CREATE TABLE IF NOT EXISTS search_metadata_pending (
    project_id TEXT PRIMARY KEY
);
INSERT INTO search_metadata_pending (project_id) SELECT id FROM projects ON CONFLICT DO NOTHING;
