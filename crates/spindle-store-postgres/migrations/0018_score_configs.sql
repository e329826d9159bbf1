-- Score configs: the shape a project's scores of one name must have (NUMERIC with an optional
-- range, CATEGORICAL with its categories as JSON text `[{label, value}]`, BOOLEAN, TEXT).
-- `revision` counts the updates, so an update only applies to the row it read.

CREATE TABLE score_configs (
    id          text COLLATE "C" NOT NULL,
    project_id  text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    data_type   text COLLATE "C" NOT NULL,
    is_archived boolean NOT NULL DEFAULT false,
    min_value   double precision,
    max_value   double precision,
    categories  text,
    description text,
    revision    bigint NOT NULL DEFAULT 0,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX score_configs_by_created_at ON score_configs (project_id, created_at);
