-- Events and distinct people per minute of event time, from the minute :first through the
-- minute :last (the current, partial one): one row per minute, zeros included, oldest first.
WITH present AS (
    SELECT m.minute, coalesce(l.person_id, m.user_id) AS person
    FROM rollup_minute_users m
    LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
    WHERE m.project_id = :project_id
      AND m.minute >= CAST(:first AS timestamptz)
      AND m.minute <= CAST(:last AS timestamptz)
    GROUP BY 1, 2
),
people AS (
    SELECT minute, count(*) AS users FROM present GROUP BY minute
)
SELECT s.minute,
       coalesce(r.events, 0) AS events,
       coalesce(p.users, 0)  AS users
FROM generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), interval '1 minute') AS s (minute)
LEFT JOIN rollup_minutes r ON r.project_id = :project_id AND r.minute = s.minute
LEFT JOIN people p ON p.minute = s.minute
ORDER BY s.minute
