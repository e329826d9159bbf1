-- Prompts. One row per version in `prompts`; `prompt_heads` holds one row per prompt name
-- with its last version number (the row a new version's transaction updates first, so
-- concurrent creates of one name wait for each other and number their versions one after
-- the other); a label is held by one version at a time (`prompt_labels`, keyed by the
-- label); tags belong to the prompt (`prompt_tags`); `prompt_dependencies` are the
-- references a version's content makes to other prompts, so deleting what another prompt
-- embeds can be refused.

CREATE TABLE prompt_heads (
    project_id   text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    last_version bigint NOT NULL,
    updated_at   bigint NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE prompts (
    project_id     text COLLATE "C" NOT NULL,
    name           text COLLATE "C" NOT NULL,
    version        bigint NOT NULL,
    id             text COLLATE "C" NOT NULL,
    prompt_type    text NOT NULL,
    prompt         text NOT NULL,
    config         text NOT NULL,
    commit_message text,
    created_by     text NOT NULL,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    PRIMARY KEY (project_id, name, version)
);
CREATE UNIQUE INDEX prompts_by_id ON prompts (project_id, id);

CREATE TABLE prompt_labels (
    project_id text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    label      text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (project_id, name, label)
);
CREATE INDEX prompt_labels_by_version ON prompt_labels (project_id, name, version);

CREATE TABLE prompt_tags (
    project_id text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    tag        text COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, name, tag)
);
CREATE INDEX prompt_tags_by_tag ON prompt_tags (project_id, tag);

CREATE TABLE prompt_dependencies (
    project_id    text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    version       bigint NOT NULL,
    child_name    text COLLATE "C" NOT NULL,
    child_label   text,
    child_version bigint
);
CREATE INDEX prompt_dependencies_by_parent ON prompt_dependencies (project_id, name, version);
CREATE INDEX prompt_dependencies_by_child ON prompt_dependencies (project_id, child_name);
