-- Datasets: test sets by name (`datasets`), their items (`dataset_items`, ids unique in a
-- project), runs of a dataset by name (`dataset_runs`) and the run items that link an item
-- to the trace (and optionally the observation) a run produced for it (`dataset_run_items`).
-- JSON values are stored as JSON text; lists read newest first.

CREATE TABLE datasets (
    id                     TEXT NOT NULL,
    project_id             TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT,
    metadata               TEXT,
    input_schema           TEXT,
    expected_output_schema TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX datasets_by_name ON datasets (project_id, name);
CREATE INDEX datasets_by_created_at ON datasets (project_id, created_at);

CREATE TABLE dataset_items (
    id                    TEXT NOT NULL,
    project_id            TEXT NOT NULL,
    dataset_id            TEXT NOT NULL,
    status                TEXT NOT NULL,
    input                 TEXT,
    expected_output       TEXT,
    metadata              TEXT,
    source_trace_id       TEXT,
    source_observation_id TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX dataset_items_by_dataset ON dataset_items (project_id, dataset_id, created_at);
CREATE INDEX dataset_items_by_source_trace ON dataset_items (project_id, source_trace_id)
    WHERE source_trace_id IS NOT NULL;
CREATE INDEX dataset_items_by_source_observation ON dataset_items (project_id, source_observation_id)
    WHERE source_observation_id IS NOT NULL;

CREATE TABLE dataset_runs (
    id          TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    dataset_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    metadata    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX dataset_runs_by_name ON dataset_runs (project_id, dataset_id, name);
CREATE INDEX dataset_runs_by_created_at ON dataset_runs (project_id, dataset_id, created_at);

CREATE TABLE dataset_run_items (
    id              TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    dataset_item_id TEXT NOT NULL,
    trace_id        TEXT NOT NULL,
    observation_id  TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX dataset_run_items_by_run ON dataset_run_items (project_id, run_id, created_at);
CREATE INDEX dataset_run_items_by_item ON dataset_run_items (project_id, dataset_item_id);
