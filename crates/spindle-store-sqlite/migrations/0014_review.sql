-- Review: annotation queues (`annotation_queues`, names unique in a project, the score config
-- ids a JSON array of strings), the objects queued in them (`annotation_queue_items`), the
-- users assigned to each (`annotation_queue_assignments`) and comments on traces,
-- observations, sessions and prompts (`comments`). Objects are referred to by id in the same
-- project; lists read newest first.

CREATE TABLE annotation_queues (
    id               TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    score_config_ids TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX annotation_queues_by_name ON annotation_queues (project_id, name);
CREATE INDEX annotation_queues_by_created_at ON annotation_queues (project_id, created_at);

CREATE TABLE annotation_queue_items (
    id           TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    queue_id     TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    status       TEXT NOT NULL,
    completed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX annotation_queue_items_by_queue
    ON annotation_queue_items (project_id, queue_id, status, created_at);
CREATE INDEX annotation_queue_items_by_object
    ON annotation_queue_items (project_id, object_type, object_id);

CREATE TABLE annotation_queue_assignments (
    project_id TEXT NOT NULL,
    queue_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, queue_id, user_id)
) WITHOUT ROWID;

CREATE TABLE comments (
    id             TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    content        TEXT NOT NULL,
    author_user_id TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX comments_by_object ON comments (project_id, object_type, object_id, created_at);
CREATE INDEX comments_by_created_at ON comments (project_id, created_at);
