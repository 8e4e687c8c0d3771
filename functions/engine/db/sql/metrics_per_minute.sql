-- Events and distinct users per minute of event time, from the minute :first through :until
-- (the current, partial minute last): one row per minute, zeros included, oldest first.
-- Read from events directly, like the headline numbers, so a drained event counts at once.
WITH counts AS (
    SELECT date_trunc('minute', "timestamp") AS minute,
           count(*)                          AS events,
           count(DISTINCT person_id)         AS users
    FROM events_people
    WHERE project_id = :project_id
      AND "timestamp" >= CAST(:first AS timestamptz)
      AND "timestamp" <= CAST(:until AS timestamptz)
    GROUP BY 1
)
SELECT m.minute,
       coalesce(c.events, 0) AS events,
       coalesce(c.users, 0)  AS users
FROM generate_series(CAST(:first AS timestamptz), date_trunc('minute', CAST(:until AS timestamptz)), interval '1 minute') AS m (minute)
LEFT JOIN counts c USING (minute)
ORDER BY m.minute
