-- Version 19: the observations linked to a prompt, by prompt and trace, so the per-version
-- score averages of a prompt can start from the project's scores when those are fewer than
-- the prompt's generations and find each score's generations with one seek in this index.
CREATE INDEX observations_by_prompt_trace ON observations (project_id, prompt_name, trace_id,
    prompt_version, id)
    WHERE prompt_name IS NOT NULL;
