-- Secrets of the server itself, created once: `server` keys the HMACs of media download
-- tokens and the pepper of API secret hashes. The server on SQLite keeps its secret in a file
-- of the data dir instead (so a copy of this database alone does not carry it); the table
-- keeps the shared statements the same on both backends.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
