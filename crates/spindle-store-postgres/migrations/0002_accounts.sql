-- Accounts of the web UI: users, their sessions, project memberships, one-time sign-in
-- links and saved views. Secrets are stored only as hashes. Emails are unique ignoring
-- ASCII case (lower() under the "C" collation), like SQLite's NOCASE.

CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    email         text COLLATE "C" NOT NULL,
    name          text,
    password_hash text,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users (lower(email));

CREATE TABLE ui_sessions (
    token_hash text COLLATE "C" PRIMARY KEY,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX ui_sessions_by_user ON ui_sessions (user_id);

CREATE TABLE memberships (
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id text COLLATE "C" NOT NULL,
    role       text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE sign_in_links (
    token_hash text COLLATE "C" PRIMARY KEY,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at bigint NOT NULL,
    used_at    bigint
);

CREATE TABLE saved_views (
    id         text COLLATE "C" PRIMARY KEY,
    project_id text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    page       text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    query      text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX saved_views_by_project ON saved_views (project_id, page);
