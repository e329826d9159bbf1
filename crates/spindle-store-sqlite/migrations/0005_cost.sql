-- Cost tracking: what the writer derives for each observation from its model, usage and I/O
-- (the matched price entry, usage counted by a tokenizer, cost from the prices; JSON), the
-- models each project defines, and each project's switch for the built-in prices.
ALTER TABLE observations ADD COLUMN derived TEXT;

ALTER TABLE projects ADD COLUMN builtin_prices INTEGER NOT NULL DEFAULT 1;

CREATE TABLE models (
    project_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    model_name       TEXT NOT NULL,
    match_pattern    TEXT NOT NULL,
    start_date       INTEGER,
    unit             TEXT,
    -- USD per unit by usage type, JSON.
    prices           TEXT NOT NULL,
    tokenizer_id     TEXT,
    tokenizer_config TEXT,
    -- Tiers besides the default one, JSON.
    pricing_tiers    TEXT,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
