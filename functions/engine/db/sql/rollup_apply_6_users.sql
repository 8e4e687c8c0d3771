-- A row inserted rather than updated (xmax = 0) is a user id seen for the first time.
WITH batch AS (
    SELECT project_id, user_id, count(*) AS events, count(duration) AS durations,
           coalesce(sum(duration::numeric), 0) AS duration_sum,
           min("timestamp") AS first_seen, max("timestamp") AS last_seen
    FROM rollup_batch
    GROUP BY 1, 2
),
fresh AS (
    SELECT project_id, user_id, count(*) FILTER (WHERE kind = 's') AS sessions, count(*) FILTER (WHERE kind = 'e') AS elements
    FROM rollup_fresh
    WHERE kind IN ('s', 'e')
    GROUP BY 1, 2
),
upserted AS (
    INSERT INTO rollup_users AS r (project_id, user_id, events, durations, duration_sum, first_seen, last_seen, sessions, elements)
    SELECT b.project_id, b.user_id, b.events, b.durations, b.duration_sum, b.first_seen, b.last_seen,
           coalesce(f.sessions, 0), coalesce(f.elements, 0)
    FROM batch b
    LEFT JOIN fresh f ON f.project_id = b.project_id AND f.user_id = b.user_id
    ORDER BY b.project_id, b.user_id
    ON CONFLICT (project_id, user_id) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        durations = r.durations + EXCLUDED.durations,
        duration_sum = r.duration_sum + EXCLUDED.duration_sum,
        first_seen = least(r.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(r.last_seen, EXCLUDED.last_seen),
        sessions = r.sessions + EXCLUDED.sessions,
        elements = r.elements + EXCLUDED.elements
    RETURNING project_id, (xmax = 0) AS created
)
INSERT INTO rollup_fresh (kind, project_id)
SELECT 'u', project_id FROM upserted WHERE created
