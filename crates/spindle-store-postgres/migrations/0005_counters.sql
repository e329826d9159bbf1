-- Version 5: trace and observation counts per project, so unfiltered lists need no
-- count(*) over a million rows. Writers add to one of 16 shards of a project (chosen at
-- random per transaction), so concurrent writers rarely wait on the same counter row;
-- readers sum the shards. A shard may go negative; the sum is exact.
CREATE TABLE project_counts (
    project_id   text COLLATE "C" NOT NULL,
    shard        smallint NOT NULL,
    traces       bigint NOT NULL DEFAULT 0,
    observations bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, shard)
);
INSERT INTO project_counts (project_id, shard, traces, observations)
    SELECT project_id, 0, sum(traces), sum(observations) FROM (
        SELECT project_id, count(*) AS traces, 0 AS observations FROM traces GROUP BY project_id
        UNION ALL
        SELECT project_id, 0, count(*) FROM observations GROUP BY project_id
    ) counted GROUP BY project_id;
