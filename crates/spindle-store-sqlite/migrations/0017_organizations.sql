-- Organizations with members and roles, organization API keys, and project lifecycle.
--
-- Roles are OWNER, ADMIN, MEMBER, VIEWER (and NONE: an organization member who sees only the
-- projects they are a member of). A project membership overrides the organization role for
-- that project. Existing accounts: admins become owners of every organization, other users
-- MEMBERs of the organizations of their projects, and their project memberships stay as
-- overrides (a project owner becomes a project ADMIN).

ALTER TABLE projects ADD COLUMN metadata TEXT;
ALTER TABLE projects ADD COLUMN updated_at INTEGER;
-- Set when the project is deleted: it is unreachable from then on.
ALTER TABLE projects ADD COLUMN deleted_at INTEGER;
-- Set once the background purge removed all of a deleted project's data.
ALTER TABLE projects ADD COLUMN purged_at INTEGER;
CREATE INDEX projects_to_purge ON projects (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

CREATE TABLE organization_memberships (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_memberships_by_user ON organization_memberships (user_id);

CREATE TABLE organization_api_keys (
    public_key      TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    secret_hash     TEXT NOT NULL,
    secret_hint     TEXT NOT NULL,
    note            TEXT,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX organization_api_keys_by_organization ON organization_api_keys (organization_id);

UPDATE memberships SET role = CASE role WHEN 'owner' THEN 'ADMIN' ELSE 'MEMBER' END;

INSERT INTO organization_memberships (organization_id, user_id, role, created_at)
SELECT o.id, u.id, 'OWNER', u.created_at
FROM users u CROSS JOIN organizations o
WHERE u.is_admin = 1;

INSERT INTO organization_memberships (organization_id, user_id, role, created_at)
SELECT p.organization_id, m.user_id, 'MEMBER', min(m.created_at)
FROM memberships m
JOIN projects p ON p.id = m.project_id
JOIN users u ON u.id = m.user_id
WHERE u.is_admin = 0
GROUP BY p.organization_id, m.user_id;
