-- 008: each project's all-time totals, refreshed right after user_engagement.
--
-- GET /metrics answers all_time.events and all_time.users on every call; summing
-- user_engagement for them read one row per user each time (100,000 rows for 100,000
-- users). This view holds the answer in one row per project.

CREATE MATERIALIZED VIEW project_totals AS
SELECT project_id,
       sum(events)::bigint AS events,
       count(*)::bigint    AS users
FROM user_engagement
GROUP BY project_id;

CREATE UNIQUE INDEX project_totals_key ON project_totals (project_id);

GRANT SELECT ON project_totals TO analytics_reader;
