-- The audit log: who changed what in an organization and its projects, and when. Entries
-- are only ever added; a deleted project's entries stay (its purge leaves them).
--
-- actor_kind is USER, ORGANIZATION_KEY or PROJECT_KEY and actor_id the user's id or the
-- key's public key; details is a JSON object (a role, a name, …) or NULL.

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL,
    project_id      text COLLATE "C",
    actor_kind      text NOT NULL,
    actor_id        text NOT NULL,
    action          text NOT NULL,
    resource_type   text NOT NULL,
    resource_id     text NOT NULL,
    details         text,
    created_at      bigint NOT NULL
);
CREATE INDEX audit_log_by_organization ON audit_log (organization_id, created_at DESC, id DESC);
CREATE INDEX audit_log_by_project ON audit_log (project_id, created_at DESC, id DESC) WHERE project_id IS NOT NULL;
