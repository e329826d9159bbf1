-- Review: annotation queues (`annotation_queues`, names unique in a project, the score config
-- ids a JSON array of strings), the objects queued in them (`annotation_queue_items`), the
-- users assigned to each (`annotation_queue_assignments`) and comments on traces,
-- observations, sessions and prompts (`comments`). Objects are referred to by id in the same
-- project; lists read newest first.

CREATE TABLE annotation_queues (
    id               text COLLATE "C" NOT NULL,
    project_id       text COLLATE "C" NOT NULL,
    name             text NOT NULL,
    description      text,
    score_config_ids text NOT NULL,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX annotation_queues_by_name ON annotation_queues (project_id, name);
CREATE INDEX annotation_queues_by_created_at ON annotation_queues (project_id, created_at);

CREATE TABLE annotation_queue_items (
    id           text COLLATE "C" NOT NULL,
    project_id   text COLLATE "C" NOT NULL,
    queue_id     text COLLATE "C" NOT NULL,
    object_id    text COLLATE "C" NOT NULL,
    object_type  text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL,
    completed_at bigint,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX annotation_queue_items_by_queue
    ON annotation_queue_items (project_id, queue_id, status, created_at);
CREATE INDEX annotation_queue_items_by_object
    ON annotation_queue_items (project_id, object_type, object_id);

CREATE TABLE annotation_queue_assignments (
    project_id text COLLATE "C" NOT NULL,
    queue_id   text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (project_id, queue_id, user_id)
);

CREATE TABLE comments (
    id             text COLLATE "C" NOT NULL,
    project_id     text COLLATE "C" NOT NULL,
    object_type    text COLLATE "C" NOT NULL,
    object_id      text COLLATE "C" NOT NULL,
    content        text NOT NULL,
    author_user_id text COLLATE "C",
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX comments_by_object ON comments (project_id, object_type, object_id, created_at);
CREATE INDEX comments_by_created_at ON comments (project_id, created_at);
