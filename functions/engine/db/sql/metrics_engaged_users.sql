-- The most engaged users over all retained events, live: user_engagement as of its last
-- refresh, plus the events later in event time than anything that refresh saw (the "tail").
-- The watermark is read from the same view, so no event is counted twice; an event that
-- arrives late (event time before the watermark) joins at the next refresh.
-- Most events first, then most total duration, ties in byte order of user_id. Each row also
-- carries the project's totals (every user, before the LIMIT): events and distinct users.
WITH watermark AS (
    SELECT coalesce(max(last_seen), '-infinity'::timestamptz) AS at
    FROM user_engagement
    WHERE project_id = :project_id
),
tail AS (
    SELECT person_id                  AS user_id,
           count(*)                   AS events,
           coalesce(sum(duration), 0) AS total_duration,
           min("timestamp")           AS first_seen,
           max("timestamp")           AS last_seen
    FROM events_people
    WHERE project_id = :project_id
      AND "timestamp" > (SELECT at FROM watermark)
    GROUP BY person_id
),
viewed AS (
    SELECT user_id, events, total_duration, first_seen, last_seen
    FROM user_engagement
    WHERE project_id = :project_id
)
SELECT user_id,
       coalesce(v.events, 0) + coalesce(t.events, 0)                 AS events,
       coalesce(v.total_duration, 0) + coalesce(t.total_duration, 0) AS total_duration,
       least(v.first_seen, t.first_seen)                             AS first_seen,
       greatest(v.last_seen, t.last_seen)                            AS last_seen,
       sum(coalesce(v.events, 0) + coalesce(t.events, 0)) OVER ()    AS total_events,
       count(*) OVER ()                                              AS total_users
FROM viewed v
FULL JOIN tail t USING (user_id)
ORDER BY 2 DESC, 3 DESC, user_id COLLATE "C"
LIMIT :limit
