-- Version 24: the resource and scope attributes an OpenTelemetry exporter repeats on every
-- span (the `resourceAttributes` and `scope` keys of an observation's metadata) are stored
-- once per project and distinct value; an observation names its row in `resource_id`, and
-- reads put the keys back into its metadata (`rows.rs`, `OBSERVATION_METADATA_SQLITE`).
-- Rows written before keep the keys inline (`resource_id` NULL) and read as before.
CREATE TABLE resources (
    id         INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    -- A JSON object of those metadata keys, as the observation's metadata holds them.
    metadata   TEXT NOT NULL,
    UNIQUE (project_id, metadata)
);
ALTER TABLE observations ADD COLUMN resource_id INTEGER;
