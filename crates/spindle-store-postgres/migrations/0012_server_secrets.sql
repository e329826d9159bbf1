-- Secrets of the server itself, created once by whichever instance starts first and shared
-- by all: `server` keys the HMACs of media download tokens and the pepper of API secret
-- hashes.
CREATE TABLE server_secrets (
    name       text COLLATE "C" PRIMARY KEY,
    value      text NOT NULL,
    created_at bigint NOT NULL
);
