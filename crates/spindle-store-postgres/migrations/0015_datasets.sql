-- Datasets: test sets by name (`datasets`), their items (`dataset_items`, ids unique in a
-- project), runs of a dataset by name (`dataset_runs`) and the run items that link an item
-- to the trace (and optionally the observation) a run produced for it (`dataset_run_items`).
-- JSON values are stored as JSON text; lists read newest first.

CREATE TABLE datasets (
    id                     text COLLATE "C" NOT NULL,
    project_id             text COLLATE "C" NOT NULL,
    name                   text COLLATE "C" NOT NULL,
    description            text,
    metadata               text,
    input_schema           text,
    expected_output_schema text,
    created_at             bigint NOT NULL,
    updated_at             bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX datasets_by_name ON datasets (project_id, name);
CREATE INDEX datasets_by_created_at ON datasets (project_id, created_at);

CREATE TABLE dataset_items (
    id                    text COLLATE "C" NOT NULL,
    project_id            text COLLATE "C" NOT NULL,
    dataset_id            text COLLATE "C" NOT NULL,
    status                text COLLATE "C" NOT NULL,
    input                 text,
    expected_output       text,
    metadata              text,
    source_trace_id       text,
    source_observation_id text,
    created_at            bigint NOT NULL,
    updated_at            bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX dataset_items_by_dataset ON dataset_items (project_id, dataset_id, created_at);
CREATE INDEX dataset_items_by_source_trace ON dataset_items (project_id, source_trace_id)
    WHERE source_trace_id IS NOT NULL;
CREATE INDEX dataset_items_by_source_observation ON dataset_items (project_id, source_observation_id)
    WHERE source_observation_id IS NOT NULL;

CREATE TABLE dataset_runs (
    id          text COLLATE "C" NOT NULL,
    project_id  text COLLATE "C" NOT NULL,
    dataset_id  text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    description text,
    metadata    text,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX dataset_runs_by_name ON dataset_runs (project_id, dataset_id, name);
CREATE INDEX dataset_runs_by_created_at ON dataset_runs (project_id, dataset_id, created_at);

CREATE TABLE dataset_run_items (
    id              text COLLATE "C" NOT NULL,
    project_id      text COLLATE "C" NOT NULL,
    run_id          text COLLATE "C" NOT NULL,
    dataset_item_id text COLLATE "C" NOT NULL,
    trace_id        text COLLATE "C" NOT NULL,
    observation_id  text,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX dataset_run_items_by_run ON dataset_run_items (project_id, run_id, created_at);
CREATE INDEX dataset_run_items_by_item ON dataset_run_items (project_id, dataset_item_id);
