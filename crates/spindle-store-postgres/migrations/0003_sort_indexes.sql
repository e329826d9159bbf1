-- Version 3: the time indexes in the order the lists read them. Lists sort newest first
-- with NULLs last (SQLite's order), which a plain ascending index cannot give without a
-- sort; these serve `DESC NULLS LAST` forwards and `ASC NULLS FIRST` backwards.
CREATE INDEX traces_by_time_desc ON traces (project_id, timestamp DESC NULLS LAST, id DESC);
DROP INDEX traces_by_time;
CREATE INDEX scores_by_time_desc ON scores (project_id, timestamp DESC NULLS LAST, id DESC);
DROP INDEX scores_by_time;
