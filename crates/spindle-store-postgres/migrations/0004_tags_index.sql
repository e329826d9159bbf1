-- Version 4: the tags index with the default operator class, which serves the `?|` and `?&`
-- operators the tag filters use (`jsonb_path_ops` serves only containment).
DROP INDEX traces_by_tags;
CREATE INDEX traces_by_tags ON traces USING gin (tags);
