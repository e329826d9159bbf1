-- Spindle's SQLite schema, version 1.
-- Every data table is keyed by (project_id, id). Small columns come first and large text
-- (input, output, metadata, stamps) last, so scans that read only small columns do not touch
-- overflow pages. Times are microseconds since the Unix epoch.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    retention_days  INTEGER,
    created_at      INTEGER NOT NULL
);

CREATE TABLE api_keys (
    public_key  TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    secret_hash TEXT NOT NULL,
    secret_hint TEXT NOT NULL,
    note        TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_keys_by_project ON api_keys (project_id);

-- Per-project counters kept by the writer, so unfiltered trace lists need no count(*).
CREATE TABLE project_stats (
    project_id  TEXT PRIMARY KEY NOT NULL,
    trace_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE traces (
    project_id  TEXT NOT NULL,
    id          TEXT NOT NULL,
    timestamp   INTEGER,
    environment TEXT,
    name        TEXT,
    user_id     TEXT,
    session_id  TEXT,
    release     TEXT,
    version     TEXT,
    public      INTEGER,
    bookmarked  INTEGER,
    external_id TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    tags        TEXT NOT NULL DEFAULT '[]',
    metadata    TEXT NOT NULL DEFAULT '{}',
    input       TEXT,
    output      TEXT,
    stamps      TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (project_id, id)
);
CREATE INDEX traces_by_time ON traces (project_id, timestamp, id);
CREATE INDEX traces_by_user ON traces (project_id, user_id);
CREATE INDEX traces_by_session ON traces (project_id, session_id);
CREATE INDEX traces_by_name ON traces (project_id, name);

CREATE TABLE observations (
    project_id            TEXT NOT NULL,
    id                    TEXT NOT NULL,
    trace_id              TEXT,
    start_time            INTEGER,
    end_time              INTEGER,
    environment           TEXT,
    type                  TEXT,
    parent_observation_id TEXT,
    name                  TEXT,
    completion_start_time INTEGER,
    level                 TEXT,
    version               TEXT,
    model                 TEXT,
    prompt_name           TEXT,
    prompt_version        INTEGER,
    -- Derived on write from cost_details and usage_details.
    total_cost            REAL,
    usage_input           INTEGER,
    usage_output          INTEGER,
    usage_total           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    status_message        TEXT,
    model_parameters      TEXT,
    usage_details         TEXT,
    cost_details          TEXT,
    metadata              TEXT NOT NULL DEFAULT '{}',
    input                 TEXT,
    output                TEXT,
    stamps                TEXT NOT NULL DEFAULT '[]',
    -- The keyset sort key: observations without a start time sort last.
    sort_time             INTEGER GENERATED ALWAYS AS
                              (coalesce(start_time, -9223372036854775808)) VIRTUAL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX observations_by_trace ON observations (project_id, trace_id);
CREATE INDEX observations_by_time ON observations (project_id, sort_time, id);

CREATE TABLE scores (
    project_id         TEXT NOT NULL,
    id                 TEXT NOT NULL,
    timestamp          INTEGER,
    environment        TEXT,
    name               TEXT,
    value              REAL,
    string_value       TEXT,
    data_type          TEXT,
    source             TEXT,
    trace_id           TEXT,
    observation_id     TEXT,
    session_id         TEXT,
    dataset_run_id     TEXT,
    config_id          TEXT,
    queue_id           TEXT,
    author_user_id     TEXT,
    execution_trace_id TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    comment            TEXT,
    metadata           TEXT NOT NULL DEFAULT '{}',
    stamps             TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (project_id, id)
);
CREATE INDEX scores_by_trace ON scores (project_id, trace_id);
CREATE INDEX scores_by_time ON scores (project_id, timestamp, id);

CREATE TABLE media (
    project_id         TEXT NOT NULL,
    id                 TEXT NOT NULL,
    sha256_hash        TEXT NOT NULL,
    content_type       TEXT NOT NULL,
    content_length     INTEGER NOT NULL,
    trace_id           TEXT,
    observation_id     TEXT,
    field              TEXT,
    uploaded_at        INTEGER,
    upload_http_status INTEGER,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE TABLE media_blobs (
    project_id TEXT NOT NULL,
    id         TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    PRIMARY KEY (project_id, id)
);
