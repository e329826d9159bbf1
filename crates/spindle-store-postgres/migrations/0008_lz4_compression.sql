-- Version 8: LZ4 instead of pglz for the large values (inputs, outputs, metadata, stamps).
-- A span of a few KB is over PostgreSQL's 2 KB TOAST threshold, so every such row is
-- compressed on insert; pglz was the largest single CPU cost of PostgreSQL ingest (about 15 %
-- of the machine in the profile of BENCHMARKS.md), LZ4 costs a fraction of it. Only values
-- written from now on use it; existing ones stay readable. Servers built without LZ4 support
-- (`--without-lz4`) keep pglz.
DO $$
BEGIN
    ALTER TABLE traces
        ALTER COLUMN input SET COMPRESSION lz4,
        ALTER COLUMN output SET COMPRESSION lz4,
        ALTER COLUMN metadata SET COMPRESSION lz4,
        ALTER COLUMN stamps SET COMPRESSION lz4;
    ALTER TABLE observations
        ALTER COLUMN input SET COMPRESSION lz4,
        ALTER COLUMN output SET COMPRESSION lz4,
        ALTER COLUMN metadata SET COMPRESSION lz4,
        ALTER COLUMN stamps SET COMPRESSION lz4,
        ALTER COLUMN model_parameters SET COMPRESSION lz4,
        ALTER COLUMN derived SET COMPRESSION lz4;
    ALTER TABLE scores
        ALTER COLUMN metadata SET COMPRESSION lz4,
        ALTER COLUMN stamps SET COMPRESSION lz4;
EXCEPTION
    WHEN feature_not_supported THEN
        RAISE NOTICE 'LZ4 is not available in this PostgreSQL build; keeping pglz';
END
$$;
