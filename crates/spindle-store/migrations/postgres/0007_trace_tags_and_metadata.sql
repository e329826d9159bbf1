-- Version 7: index tables of trace tags and trace metadata, with the same rows as SQLite's
-- (migration 0006 there), so tag and metadata filters and their counts read an index
-- instead of every trace's JSON.
--
-- A trigger on `traces` keeps them: every insert, merge, delete, retention delete and
-- `copy-to-postgres` row goes through it, whichever instance wrote it. `ts` is the trace's
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

CREATE FUNCTION spindle_trace_index_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    counter_shard smallint := floor(random() * 16)::smallint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.tags IS NOT DISTINCT FROM NEW.tags
        AND OLD.metadata IS NOT DISTINCT FROM NEW.metadata
        AND OLD.timestamp IS NOT DISTINCT FROM NEW.timestamp THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM trace_tags
            WHERE project_id = OLD.project_id
            AND tag IN (SELECT jsonb_array_elements_text(OLD.tags))
            AND ts = coalesce(OLD.timestamp, '-9223372036854775808'::bigint)
            AND trace_id = OLD.id;
        INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
            SELECT DISTINCT OLD.project_id, tag, counter_shard, -1
            FROM jsonb_array_elements_text(OLD.tags) AS tag
            ON CONFLICT (project_id, tag, shard)
            DO UPDATE SET trace_count = trace_tag_counts.trace_count - 1;
        DELETE FROM trace_metadata
            WHERE project_id = OLD.project_id
            AND (key, value) IN (
                SELECT m.key, spindle_unquoted(m.value #>> '{}')
                FROM jsonb_each(OLD.metadata) AS m WHERE jsonb_typeof(m.value) = 'string')
            AND ts = coalesce(OLD.timestamp, '-9223372036854775808'::bigint)
            AND trace_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO trace_tags (project_id, tag, ts, trace_id)
            SELECT DISTINCT NEW.project_id, tag,
                coalesce(NEW.timestamp, '-9223372036854775808'::bigint), NEW.id
            FROM jsonb_array_elements_text(NEW.tags) AS tag
            ON CONFLICT DO NOTHING;
        INSERT INTO trace_tag_counts (project_id, tag, shard, trace_count)
            SELECT DISTINCT NEW.project_id, tag, counter_shard, 1
            FROM jsonb_array_elements_text(NEW.tags) AS tag
            ON CONFLICT (project_id, tag, shard)
            DO UPDATE SET trace_count = trace_tag_counts.trace_count + 1;
        INSERT INTO trace_metadata (project_id, key, value, ts, trace_id)
            SELECT NEW.project_id, u.key, u.value,
                coalesce(NEW.timestamp, '-9223372036854775808'::bigint), NEW.id
            FROM (SELECT m.key, spindle_unquoted(m.value #>> '{}') AS value
                  FROM jsonb_each(NEW.metadata) AS m
                  WHERE jsonb_typeof(m.value) = 'string') AS u
            WHERE length(u.value) <= 256
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER traces_index_rows AFTER INSERT OR UPDATE OR DELETE ON traces
    FOR EACH ROW EXECUTE FUNCTION spindle_trace_index_rows();

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
