-- Version 9: observations linked to a prompt version, for the per-version metrics and the
-- list of the generations that used a version. Partial: most observations have no prompt.
CREATE INDEX observations_by_prompt ON observations (project_id, prompt_name, prompt_version, start_time)
    WHERE prompt_name IS NOT NULL;
