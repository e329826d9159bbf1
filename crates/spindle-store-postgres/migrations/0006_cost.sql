-- Cost tracking: what the writer derives for each observation from its model, usage and I/O
-- (the matched price entry, usage counted by a tokenizer, cost from the prices; JSON), the
-- models each project defines, and each project's switch for the built-in prices.
ALTER TABLE observations ADD COLUMN derived text;

ALTER TABLE projects ADD COLUMN builtin_prices boolean NOT NULL DEFAULT true;

CREATE TABLE models (
    project_id       text COLLATE "C" NOT NULL,
    id               text COLLATE "C" NOT NULL,
    model_name       text NOT NULL,
    match_pattern    text NOT NULL,
    start_date       bigint,
    unit             text,
    -- USD per unit by usage type, JSON.
    prices           text NOT NULL,
    tokenizer_id     text,
    tokenizer_config text,
    -- Tiers besides the default one, JSON.
    pricing_tiers    text,
    created_at       bigint NOT NULL,
    PRIMARY KEY (project_id, id)
);
