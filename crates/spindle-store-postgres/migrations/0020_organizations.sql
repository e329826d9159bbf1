-- Organizations with members and roles, organization API keys, and project lifecycle.
--
-- Roles are OWNER, ADMIN, MEMBER, VIEWER (and NONE: an organization member who sees only the
-- projects they are a member of). A project membership overrides the organization role for
-- that project. Existing accounts: admins become owners of every organization, other users
-- MEMBERs of the organizations of their projects, and their project memberships stay as
-- overrides (a project owner becomes a project ADMIN).

ALTER TABLE projects ADD COLUMN metadata text;
ALTER TABLE projects ADD COLUMN updated_at bigint;
-- Set when the project is deleted: it is unreachable from then on.
ALTER TABLE projects ADD COLUMN deleted_at bigint;
-- Set once the background purge removed all of a deleted project's data.
ALTER TABLE projects ADD COLUMN purged_at bigint;
CREATE INDEX projects_to_purge ON projects (deleted_at) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

CREATE TABLE organization_memberships (
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    user_id         text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL,
    created_at      bigint NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_memberships_by_user ON organization_memberships (user_id);

CREATE TABLE organization_api_keys (
    public_key      text COLLATE "C" PRIMARY KEY,
    organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
    secret_hash     text NOT NULL,
    secret_hint     text NOT NULL,
    note            text,
    created_at      bigint NOT NULL,
    revoked_at      bigint
);
CREATE INDEX organization_api_keys_by_organization ON organization_api_keys (organization_id);

UPDATE memberships SET role = CASE role WHEN 'owner' THEN 'ADMIN' ELSE 'MEMBER' END;

INSERT INTO organization_memberships (organization_id, user_id, role, created_at)
SELECT o.id, u.id, 'OWNER', u.created_at
FROM users u CROSS JOIN organizations o
WHERE u.is_admin;

INSERT INTO organization_memberships (organization_id, user_id, role, created_at)
SELECT p.organization_id, m.user_id, 'MEMBER', min(m.created_at)
FROM memberships m
JOIN projects p ON p.id = m.project_id
JOIN users u ON u.id = m.user_id
WHERE NOT u.is_admin
GROUP BY p.organization_id, m.user_id;
