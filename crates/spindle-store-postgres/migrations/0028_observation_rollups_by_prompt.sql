-- The rollup rows of a prompt's versions, read by the per-version prompt metrics
-- (`prompts_sql::rollup_totals_statement`) without scanning the project's other rollups.
CREATE INDEX observation_rollups_by_prompt
    ON observation_rollups (project_id, prompt_name, prompt_version);
