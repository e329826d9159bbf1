-- Score configs: the shape a project's scores of one name must have (NUMERIC with an optional
-- range, CATEGORICAL with its categories as JSON text `[{label, value}]`, BOOLEAN, TEXT).
-- `revision` counts the updates, so an update only applies to the row it read.

CREATE TABLE score_configs (
    id          TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    data_type   TEXT NOT NULL,
    is_archived INTEGER NOT NULL DEFAULT 0,
    min_value   REAL,
    max_value   REAL,
    categories  TEXT,
    description TEXT,
    revision    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX score_configs_by_created_at ON score_configs (project_id, created_at);
