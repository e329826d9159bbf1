-- Version 8: prompts. One row per version in `prompts`; `prompt_heads` holds one row per
-- prompt name with its last version number (the row a new version's transaction updates
-- first, so concurrent creates of one name number their versions one after the other);
-- a label is held by one version at a time (`prompt_labels`, keyed by the label); tags
-- belong to the prompt (`prompt_tags`); `prompt_dependencies` are the references a version's
-- content makes to other prompts, so deleting what another prompt embeds can be refused.

CREATE TABLE prompt_heads (
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
) WITHOUT ROWID;

CREATE TABLE prompts (
    project_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    id             TEXT NOT NULL,
    prompt_type    TEXT NOT NULL,
    prompt         TEXT NOT NULL,
    config         TEXT NOT NULL,
    commit_message TEXT,
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (project_id, name, version)
);
CREATE UNIQUE INDEX prompts_by_id ON prompts (project_id, id);

CREATE TABLE prompt_labels (
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    label      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (project_id, name, label)
) WITHOUT ROWID;
CREATE INDEX prompt_labels_by_version ON prompt_labels (project_id, name, version);

CREATE TABLE prompt_tags (
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (project_id, name, tag)
) WITHOUT ROWID;
CREATE INDEX prompt_tags_by_tag ON prompt_tags (project_id, tag);

CREATE TABLE prompt_dependencies (
    project_id    TEXT NOT NULL,
    name          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    child_name    TEXT NOT NULL,
    child_label   TEXT,
    child_version INTEGER
);
CREATE INDEX prompt_dependencies_by_parent ON prompt_dependencies (project_id, name, version);
CREATE INDEX prompt_dependencies_by_child ON prompt_dependencies (project_id, child_name);
