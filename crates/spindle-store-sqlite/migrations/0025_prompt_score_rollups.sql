-- The prompt score averages kept by the writers (`spindle_store::rollups`): per prompt
-- version and score name, how many counted scores (numeric or boolean, with a value) of the
-- traces of the version's observations count for it (each score once per version) and their
-- value sum. Rows whose count went back to 0 may stay; reads ignore them.

CREATE TABLE prompt_score_rollups (
    project_id TEXT NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_version INTEGER NOT NULL,
    score_name TEXT NOT NULL,
    score_count INTEGER NOT NULL,
    value_sum REAL NOT NULL,
    PRIMARY KEY (project_id, prompt_name, prompt_version, score_name)
) WITHOUT ROWID;

-- Existing projects get every rollup rebuilt from their raw rows at start-up.
INSERT OR IGNORE INTO rollups_pending (project_id) SELECT id FROM projects;
