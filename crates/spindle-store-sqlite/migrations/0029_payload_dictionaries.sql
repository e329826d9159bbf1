-- Version 29: the zstd dictionaries packed payloads are compressed with (`payload.rs`). A
-- packed payload's frame names its dictionary by this id (zstd's own dictionary id, made
-- from the dictionary's content), or none. A row is written in the transaction of the
-- first payloads packed with it, and never deleted: payloads of any age may name it.
CREATE TABLE IF NOT EXISTS payload_dictionaries (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    dictionary BLOB NOT NULL
);
