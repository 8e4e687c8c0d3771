-- 003: the materialized views behind the longer-range questions.
--
-- GET /metrics reads the events table directly (its window is minutes, and an event must
-- count as soon as it is drained); these views answer "who", "when" and "what" over all
-- retained data and are refreshed CONCURRENTLY by view-refresh, which needs the unique
-- index each one has. Days and hours are in UTC.

CREATE MATERIALIZED VIEW user_engagement AS
SELECT project_id,
       user_id,
       count(*)                   AS events,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT element)    AS elements,
       coalesce(sum(duration), 0) AS total_duration,
       avg(duration)              AS avg_duration,
       min("timestamp")           AS first_seen,
       max("timestamp")           AS last_seen
FROM events
GROUP BY project_id, user_id;

CREATE UNIQUE INDEX user_engagement_key ON user_engagement (project_id, user_id);

-- weekday: ISO day of week, 1 = Monday ... 7 = Sunday; hour: 0-23.
CREATE MATERIALIZED VIEW activity_heatmap AS
SELECT project_id,
       extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::integer AS weekday,
       extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::integer   AS hour,
       count(*)                AS events,
       count(DISTINCT user_id) AS users,
       avg(duration)           AS avg_duration
FROM events
GROUP BY 1, 2, 3;

CREATE UNIQUE INDEX activity_heatmap_key ON activity_heatmap (project_id, weekday, hour);

CREATE MATERIALIZED VIEW element_rankings AS
SELECT project_id,
       element,
       count(*)                AS events,
       count(DISTINCT user_id) AS users,
       avg(duration)           AS avg_duration,
       rank() OVER (PARTITION BY project_id ORDER BY count(*) DESC) AS rank
FROM events
WHERE element IS NOT NULL
GROUP BY project_id, element;

CREATE UNIQUE INDEX element_rankings_key ON element_rankings (project_id, element);
