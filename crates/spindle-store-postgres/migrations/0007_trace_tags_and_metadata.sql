-- Version 7: index tables of trace tags and trace metadata, with the same rows as SQLite's
-- (migration 0006 there), so tag and metadata filters and their counts read an index
-- instead of every trace's JSON.
--
-- Triggers on `traces` keep them: every insert, merge, delete, retention delete and
-- `copy-to-postgres` row goes through them, whichever instance wrote it. `ts` is the trace's
-- timestamp as the lists sort it (NULL as the smallest bigint, which sorts last newest
-- first), so a filtered list walks its newest page in order from the index.

CREATE TABLE trace_tags (
    project_id text COLLATE "C" NOT NULL,
    tag        text COLLATE "C" NOT NULL,
    ts         bigint NOT NULL,
    trace_id   text COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, tag, ts, trace_id)
);

-- How many traces carry each tag, in 16 shards per tag (chosen at random per write), so
-- concurrent writers rarely wait on the same row; readers sum the shards.
CREATE TABLE trace_tag_counts (
    project_id  text COLLATE "C" NOT NULL,
    tag         text COLLATE "C" NOT NULL,
    shard       smallint NOT NULL,
    trace_count bigint NOT NULL,
    PRIMARY KEY (project_id, tag, shard)
);

-- One row per metadata key of a trace whose value is at most 256 characters, the value with
-- one level of JSON string quoting removed (`"acme"` → `acme`).
CREATE TABLE trace_metadata (
    project_id text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      text COLLATE "C" NOT NULL,
    ts         bigint NOT NULL,
    trace_id   text COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, key, value, ts, trace_id)
);

-- The content of a JSON string literal, any other text as it is.
CREATE FUNCTION spindle_unquoted(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value ~ '^"([^"\\\x01-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"$'
            AND value !~ '\\u0000'
        THEN (value::jsonb) #>> '{}'
        ELSE value
    END
$$;

-- Statement-level triggers with transition tables: one set-based pass per statement (the
-- writers insert and update many traces per statement), and one counter update per tag.
CREATE FUNCTION spindle_trace_index_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    counter_shard smallint := floor(random() * 16)::smallint;
BEGIN
    INSERT INTO trace_tags (project_id, tag, ts, trace_id)
        SELECT r.project_id, x.tag, coalesce(r.timestamp, '-9223372036854775808'::bigint), r.id
        FROM new_rows AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        ON CONFLICT DO NOTHING;
    INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
        SELECT r.project_id, x.tag, counter_shard, count(*)
        FROM new_rows AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        GROUP BY r.project_id, x.tag
        ON CONFLICT (project_id, tag, shard)
        DO UPDATE SET trace_count = trace_tag_counts.trace_count + excluded.trace_count;
    INSERT INTO trace_metadata (project_id, key, value, ts, trace_id)
        SELECT u.project_id, u.key, u.value, u.ts, u.id
        FROM (SELECT r.project_id, m.key, spindle_unquoted(m.value #>> '{}') AS value,
                coalesce(r.timestamp, '-9223372036854775808'::bigint) AS ts, r.id
              FROM new_rows AS r, jsonb_each(r.metadata) AS m
              WHERE jsonb_typeof(m.value) = 'string') AS u
        WHERE length(u.value) <= 256
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- A merge that changes tags, metadata or the timestamp: the old rows out, the new rows in.
CREATE FUNCTION spindle_trace_index_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    counter_shard smallint := floor(random() * 16)::smallint;
BEGIN
    DELETE FROM trace_tags g
        USING (SELECT o.* FROM old_rows o JOIN new_rows n ON n.project_id = o.project_id AND n.id = o.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        WHERE g.project_id = r.project_id AND g.tag = x.tag
        AND g.ts = coalesce(r.timestamp, '-9223372036854775808'::bigint) AND g.trace_id = r.id;
    INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
        SELECT r.project_id, x.tag, counter_shard, -count(*)
        FROM (SELECT o.* FROM old_rows o JOIN new_rows n ON n.project_id = o.project_id AND n.id = o.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        GROUP BY r.project_id, x.tag
        ON CONFLICT (project_id, tag, shard)
        DO UPDATE SET trace_count = trace_tag_counts.trace_count + excluded.trace_count;
    DELETE FROM trace_metadata g
        USING (SELECT o.* FROM old_rows o JOIN new_rows n ON n.project_id = o.project_id AND n.id = o.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_each(r.metadata) AS m
        WHERE jsonb_typeof(m.value) = 'string'
        AND g.project_id = r.project_id AND g.key = m.key
        AND g.value = spindle_unquoted(m.value #>> '{}')
        AND g.ts = coalesce(r.timestamp, '-9223372036854775808'::bigint) AND g.trace_id = r.id;
    INSERT INTO trace_tags (project_id, tag, ts, trace_id)
        SELECT r.project_id, x.tag, coalesce(r.timestamp, '-9223372036854775808'::bigint), r.id
        FROM (SELECT n.* FROM new_rows n JOIN old_rows o ON o.project_id = n.project_id AND o.id = n.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        ON CONFLICT DO NOTHING;
    INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
        SELECT r.project_id, x.tag, counter_shard, count(*)
        FROM (SELECT n.* FROM new_rows n JOIN old_rows o ON o.project_id = n.project_id AND o.id = n.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        GROUP BY r.project_id, x.tag
        ON CONFLICT (project_id, tag, shard)
        DO UPDATE SET trace_count = trace_tag_counts.trace_count + excluded.trace_count;
    INSERT INTO trace_metadata (project_id, key, value, ts, trace_id)
        SELECT u.project_id, u.key, u.value, u.ts, u.id
        FROM (SELECT r.project_id, m.key, spindle_unquoted(m.value #>> '{}') AS value,
                coalesce(r.timestamp, '-9223372036854775808'::bigint) AS ts, r.id
              FROM (SELECT n.* FROM new_rows n JOIN old_rows o ON o.project_id = n.project_id AND o.id = n.id
          WHERE (o.tags, o.metadata, o.timestamp) IS DISTINCT FROM (n.tags, n.metadata, n.timestamp)) AS r, jsonb_each(r.metadata) AS m
              WHERE jsonb_typeof(m.value) = 'string') AS u
        WHERE length(u.value) <= 256
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION spindle_trace_index_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    counter_shard smallint := floor(random() * 16)::smallint;
BEGIN
    DELETE FROM trace_tags g
        USING old_rows AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        WHERE g.project_id = r.project_id AND g.tag = x.tag
        AND g.ts = coalesce(r.timestamp, '-9223372036854775808'::bigint) AND g.trace_id = r.id;
    INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
        SELECT r.project_id, x.tag, counter_shard, -count(*)
        FROM old_rows AS r, jsonb_array_elements_text(r.tags) AS x(tag)
        GROUP BY r.project_id, x.tag
        ON CONFLICT (project_id, tag, shard)
        DO UPDATE SET trace_count = trace_tag_counts.trace_count + excluded.trace_count;
    DELETE FROM trace_metadata g
        USING old_rows AS r, jsonb_each(r.metadata) AS m
        WHERE jsonb_typeof(m.value) = 'string'
        AND g.project_id = r.project_id AND g.key = m.key
        AND g.value = spindle_unquoted(m.value #>> '{}')
        AND g.ts = coalesce(r.timestamp, '-9223372036854775808'::bigint) AND g.trace_id = r.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER traces_index_insert AFTER INSERT ON traces
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spindle_trace_index_insert();
CREATE TRIGGER traces_index_update AFTER UPDATE ON traces
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spindle_trace_index_update();
CREATE TRIGGER traces_index_delete AFTER DELETE ON traces
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION spindle_trace_index_delete();

-- The rows of the traces stored before this version.
INSERT INTO trace_tags (project_id, tag, ts, trace_id)
    SELECT DISTINCT t.project_id, tag, coalesce(t.timestamp, '-9223372036854775808'::bigint),
        t.id
    FROM traces t, jsonb_array_elements_text(t.tags) AS tag
    ON CONFLICT DO NOTHING;
INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
    SELECT project_id, tag, 0, count(*) FROM trace_tags GROUP BY project_id, tag;
INSERT INTO trace_metadata (project_id, key, value, ts, trace_id)
    SELECT u.project_id, u.key, u.value, u.ts, u.id
    FROM (SELECT t.project_id, m.key, spindle_unquoted(m.value #>> '{}') AS value,
            coalesce(t.timestamp, '-9223372036854775808'::bigint) AS ts, t.id
          FROM traces t, jsonb_each(t.metadata) AS m
          WHERE jsonb_typeof(m.value) = 'string') AS u
    WHERE length(u.value) <= 256
    ON CONFLICT DO NOTHING;

-- Score lists filtered by name and a value range read the range from an index.
CREATE INDEX scores_by_name_value ON scores (project_id, name, value, timestamp, id);

-- Traces filtered by `level = ERROR` (the dashboard's error count, the UI's "errors only")
-- are the traces of the few ERROR observations, listed by this partial index.
CREATE INDEX observations_with_errors ON observations (project_id, trace_id)
    WHERE level = 'ERROR';
