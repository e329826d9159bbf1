-- The traces whose searchable text a write may have changed, in write order. The writer
-- appends one row per trace a transaction touched; the search indexer (search.rs) indexes
-- them from its own file, remembers the last `seq` it indexed, and has the rows up to it
-- deleted. Rows above that mark are the part of the data that search scans directly.
CREATE TABLE search_pending (
    seq INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    trace_id TEXT NOT NULL
);
