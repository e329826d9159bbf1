-- Version 14: the observations linked to a prompt version ordered by latency, carrying every
-- column the per-version metrics read, so their totals and the generations linked to scores
-- come from the index alone and a latency percentile is one step to an offset in it.
CREATE INDEX observations_by_prompt_latency ON observations (project_id, prompt_name,
    prompt_version, (end_time - start_time))
    INCLUDE (start_time, end_time, usage_input, usage_output, usage_total, total_cost,
    trace_id, id)
    WHERE prompt_name IS NOT NULL;
