-- Version 6: index tables of trace tags and trace metadata, so tag and metadata filters (and
-- their counts) read an index instead of every trace's JSON.
--
-- Triggers on `traces` keep them: every insert, merge (update), delete and retention delete
-- goes through them, whichever code path wrote the row. `ts` is the trace's timestamp as the
-- lists sort it (NULL as the smallest value), so a filtered list walks its newest page in
-- order from the index.

CREATE TABLE trace_tags (
    project_id TEXT NOT NULL,
    tag        TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    trace_id   TEXT NOT NULL,
    PRIMARY KEY (project_id, tag, ts, trace_id)
) WITHOUT ROWID;

-- How many traces carry each tag: the exact total of a list filtered by one tag.
CREATE TABLE trace_tag_counts (
    project_id  TEXT NOT NULL,
    tag         TEXT NOT NULL,
    trace_count INTEGER NOT NULL,
    PRIMARY KEY (project_id, tag)
) WITHOUT ROWID;

-- One row per metadata key of a trace whose value is at most 256 characters. The value is
-- the stored text with one level of JSON string quoting removed (`"acme"` → `acme`), so an
-- equality filter looks up one value. Longer values are not indexed; filters on them read
-- the trace rows.
CREATE TABLE trace_metadata (
    project_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    trace_id   TEXT NOT NULL,
    PRIMARY KEY (project_id, key, value, ts, trace_id)
) WITHOUT ROWID;

CREATE TRIGGER traces_index_insert AFTER INSERT ON traces
BEGIN
    INSERT OR IGNORE INTO trace_tags (project_id, tag, ts, trace_id)
        SELECT NEW.project_id, value, coalesce(NEW.timestamp, -9223372036854775808), NEW.id
        FROM json_each(NEW.tags) WHERE type = 'text';
    INSERT INTO trace_tag_counts (project_id, tag, trace_count)
        SELECT DISTINCT NEW.project_id, value, 1 FROM json_each(NEW.tags) WHERE type = 'text'
        ON CONFLICT (project_id, tag) DO UPDATE SET trace_count = trace_count + 1;
    INSERT OR IGNORE INTO trace_metadata (project_id, key, value, ts, trace_id)
        SELECT NEW.project_id, m.key, m.value, coalesce(NEW.timestamp, -9223372036854775808),
            NEW.id
        FROM (SELECT key,
                CASE WHEN substr(value, 1, 1) = '"' AND json_valid(value)
                    THEN json_extract(value, '$') ELSE value END AS value
              FROM json_each(NEW.metadata) WHERE type = 'text') m
        WHERE length(m.value) <= 256;
END;

CREATE TRIGGER traces_index_delete AFTER DELETE ON traces
BEGIN
    DELETE FROM trace_tags WHERE project_id = OLD.project_id
        AND tag IN (SELECT value FROM json_each(OLD.tags))
        AND ts = coalesce(OLD.timestamp, -9223372036854775808) AND trace_id = OLD.id;
    UPDATE trace_tag_counts SET trace_count = max(trace_count - 1, 0)
        WHERE project_id = OLD.project_id
        AND tag IN (SELECT value FROM json_each(OLD.tags) WHERE type = 'text');
    DELETE FROM trace_metadata WHERE project_id = OLD.project_id
        AND (key, value) IN (SELECT key,
                CASE WHEN substr(value, 1, 1) = '"' AND json_valid(value)
                    THEN json_extract(value, '$') ELSE value END
             FROM json_each(OLD.metadata) WHERE type = 'text')
        AND ts = coalesce(OLD.timestamp, -9223372036854775808) AND trace_id = OLD.id;
END;

-- A merge that changes tags, metadata or the timestamp: the old rows out, the new rows in.
CREATE TRIGGER traces_index_update AFTER UPDATE OF tags, metadata, timestamp ON traces
WHEN OLD.tags IS NOT NEW.tags OR OLD.metadata IS NOT NEW.metadata
    OR OLD.timestamp IS NOT NEW.timestamp
BEGIN
    DELETE FROM trace_tags WHERE project_id = OLD.project_id
        AND tag IN (SELECT value FROM json_each(OLD.tags))
        AND ts = coalesce(OLD.timestamp, -9223372036854775808) AND trace_id = OLD.id;
    UPDATE trace_tag_counts SET trace_count = max(trace_count - 1, 0)
        WHERE project_id = OLD.project_id
        AND tag IN (SELECT value FROM json_each(OLD.tags) WHERE type = 'text');
    DELETE FROM trace_metadata WHERE project_id = OLD.project_id
        AND (key, value) IN (SELECT key,
                CASE WHEN substr(value, 1, 1) = '"' AND json_valid(value)
                    THEN json_extract(value, '$') ELSE value END
             FROM json_each(OLD.metadata) WHERE type = 'text')
        AND ts = coalesce(OLD.timestamp, -9223372036854775808) AND trace_id = OLD.id;
    INSERT OR IGNORE INTO trace_tags (project_id, tag, ts, trace_id)
        SELECT NEW.project_id, value, coalesce(NEW.timestamp, -9223372036854775808), NEW.id
        FROM json_each(NEW.tags) WHERE type = 'text';
    INSERT INTO trace_tag_counts (project_id, tag, trace_count)
        SELECT DISTINCT NEW.project_id, value, 1 FROM json_each(NEW.tags) WHERE type = 'text'
        ON CONFLICT (project_id, tag) DO UPDATE SET trace_count = trace_count + 1;
    INSERT OR IGNORE INTO trace_metadata (project_id, key, value, ts, trace_id)
        SELECT NEW.project_id, m.key, m.value, coalesce(NEW.timestamp, -9223372036854775808),
            NEW.id
        FROM (SELECT key,
                CASE WHEN substr(value, 1, 1) = '"' AND json_valid(value)
                    THEN json_extract(value, '$') ELSE value END AS value
              FROM json_each(NEW.metadata) WHERE type = 'text') m
        WHERE length(m.value) <= 256;
END;

-- The rows of the traces stored before this version.
INSERT OR IGNORE INTO trace_tags (project_id, tag, ts, trace_id)
    SELECT t.project_id, j.value, coalesce(t.timestamp, -9223372036854775808), t.id
    FROM traces t, json_each(t.tags) j WHERE j.type = 'text';
INSERT INTO trace_tag_counts (project_id, tag, trace_count)
    SELECT project_id, tag, count(*) FROM trace_tags WHERE true GROUP BY project_id, tag;
INSERT OR IGNORE INTO trace_metadata (project_id, key, value, ts, trace_id)
    SELECT m.project_id, m.key, m.value, m.ts, m.id
    FROM (SELECT t.project_id, j.key,
            CASE WHEN substr(j.value, 1, 1) = '"' AND json_valid(j.value)
                THEN json_extract(j.value, '$') ELSE j.value END AS value,
            coalesce(t.timestamp, -9223372036854775808) AS ts, t.id
          FROM traces t, json_each(t.metadata) j WHERE j.type = 'text') m
    WHERE length(m.value) <= 256;

-- Score lists filtered by name and a value range count and order the range from an index.
CREATE INDEX scores_by_name_value ON scores (project_id, name, value, timestamp, id);

-- Traces filtered by `level = ERROR` (the dashboard's error count, the UI's "errors only")
-- are the traces of the few ERROR observations, listed by this partial index.
CREATE INDEX observations_with_errors ON observations (project_id, trace_id)
    WHERE level = 'ERROR';

-- The fixed planner statistics of version 2, for the new tables and indexes.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl IN ('trace_tags', 'trace_tag_counts', 'trace_metadata')
    OR idx IN ('scores_by_name_value', 'observations_with_errors');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('trace_tags', 'trace_tags', '2000000 2000000 100000 2 1'),
    ('trace_tag_counts', 'trace_tag_counts', '1000 1000 1'),
    ('trace_metadata', 'trace_metadata', '2000000 2000000 200000 1000 2 1'),
    ('scores', 'scores_by_name_value', '1000000 1000000 100000 10 2 1'),
    ('observations', 'observations_with_errors', '10000 10000 2');
ANALYZE sqlite_schema;
