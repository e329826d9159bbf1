-- Spindle's PostgreSQL schema, version 1. The same row layout as the SQLite schema: every
-- data table is keyed by (project_id, id), fields in columns, tags and metadata as JSONB,
-- usage, cost and stamps as JSON text. Times are microseconds since the Unix epoch.
-- Text that is compared or sorted uses the "C" collation, so order and equality are by
-- code point, as in SQLite, whatever the database's default collation is.

CREATE TABLE organizations (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE projects (
    id              text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    name            text NOT NULL,
    retention_days  bigint,
    created_at      bigint NOT NULL
);

CREATE TABLE api_keys (
    public_key  text COLLATE "C" PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
    secret_hash text NOT NULL,
    secret_hint text NOT NULL,
    note        text,
    created_at  bigint NOT NULL,
    revoked_at  bigint
);
CREATE INDEX api_keys_by_project ON api_keys (project_id);

CREATE TABLE traces (
    project_id  text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    timestamp   bigint,
    environment text COLLATE "C",
    name        text COLLATE "C",
    user_id     text COLLATE "C",
    session_id  text COLLATE "C",
    release     text COLLATE "C",
    version     text COLLATE "C",
    public      boolean,
    bookmarked  boolean,
    external_id text COLLATE "C",
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    tags        jsonb NOT NULL DEFAULT '[]',
    metadata    jsonb NOT NULL DEFAULT '{}',
    input       text COLLATE "C",
    output      text COLLATE "C",
    stamps      text NOT NULL DEFAULT '[]',
    -- Words of input and output (normalized by the writer), without positions.
    search      tsvector,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX traces_by_time ON traces (project_id, timestamp, id);
CREATE INDEX traces_by_user ON traces (project_id, user_id);
CREATE INDEX traces_by_session ON traces (project_id, session_id);
CREATE INDEX traces_by_name ON traces (project_id, name);
CREATE INDEX traces_by_tags ON traces USING gin (tags jsonb_path_ops);
CREATE INDEX traces_search ON traces USING gin (search);

CREATE TABLE observations (
    project_id            text COLLATE "C" NOT NULL,
    id                    text COLLATE "C" NOT NULL,
    trace_id              text COLLATE "C",
    start_time            bigint,
    end_time              bigint,
    environment           text COLLATE "C",
    type                  text COLLATE "C",
    parent_observation_id text COLLATE "C",
    name                  text COLLATE "C",
    completion_start_time bigint,
    level                 text COLLATE "C",
    version               text COLLATE "C",
    model                 text COLLATE "C",
    prompt_name           text COLLATE "C",
    prompt_version        bigint,
    -- Derived on write from cost_details and usage_details.
    total_cost            double precision,
    usage_input           bigint,
    usage_output          bigint,
    usage_total           bigint,
    created_at            bigint NOT NULL,
    updated_at            bigint NOT NULL,
    status_message        text COLLATE "C",
    model_parameters      text,
    usage_details         text,
    cost_details          text,
    metadata              jsonb NOT NULL DEFAULT '{}',
    input                 text COLLATE "C",
    output                text COLLATE "C",
    stamps                text NOT NULL DEFAULT '[]',
    search                tsvector,
    -- The keyset sort key: observations without a start time sort last.
    sort_time             bigint GENERATED ALWAYS AS
                              (coalesce(start_time, -9223372036854775808)) STORED,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX observations_by_trace ON observations (project_id, trace_id);
CREATE INDEX observations_by_time ON observations (project_id, sort_time, id);
CREATE INDEX observations_search ON observations USING gin (search);

CREATE TABLE scores (
    project_id         text COLLATE "C" NOT NULL,
    id                 text COLLATE "C" NOT NULL,
    timestamp          bigint,
    environment        text COLLATE "C",
    name               text COLLATE "C",
    value              double precision,
    string_value       text COLLATE "C",
    data_type          text COLLATE "C",
    source             text COLLATE "C",
    trace_id           text COLLATE "C",
    observation_id     text COLLATE "C",
    session_id         text COLLATE "C",
    dataset_run_id     text COLLATE "C",
    config_id          text COLLATE "C",
    queue_id           text COLLATE "C",
    author_user_id     text COLLATE "C",
    execution_trace_id text COLLATE "C",
    created_at         bigint NOT NULL,
    updated_at         bigint NOT NULL,
    comment            text COLLATE "C",
    metadata           jsonb NOT NULL DEFAULT '{}',
    stamps             text NOT NULL DEFAULT '[]',
    PRIMARY KEY (project_id, id)
);
CREATE INDEX scores_by_trace ON scores (project_id, trace_id);
CREATE INDEX scores_by_time ON scores (project_id, timestamp, id);

CREATE TABLE media (
    project_id         text COLLATE "C" NOT NULL,
    id                 text COLLATE "C" NOT NULL,
    sha256_hash        text NOT NULL,
    content_type       text NOT NULL,
    content_length     bigint NOT NULL,
    trace_id           text COLLATE "C",
    observation_id     text COLLATE "C",
    field              text,
    uploaded_at        bigint,
    upload_http_status bigint,
    created_at         bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE TABLE media_blobs (
    project_id text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    bytes      bytea NOT NULL,
    PRIMARY KEY (project_id, id)
);
