-- Presence per (action, user id, UTC day) with the UTC hours it covers, and per (day, action)
-- the distinct ids and the events, durations counted and their sum: as rollup_apply_2_day_users,
-- per action. One statement: rollup_day_action_users, then rollup_day_actions, each in key order.
WITH batch AS (
    SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, action, user_id,
           bit_or(1 << CAST(extract(hour FROM "timestamp" AT TIME ZONE 'UTC') AS integer)) AS hours,
           count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1, 2, 3, 4
),
upserted AS (
    INSERT INTO rollup_day_action_users AS r (project_id, day, action, user_id, hours)
    SELECT project_id, day, action, user_id, hours FROM batch
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, day, action, user_id) DO UPDATE SET hours = r.hours | EXCLUDED.hours
    WHERE r.hours | EXCLUDED.hours <> r.hours
    RETURNING project_id, day, action, (xmax = 0) AS created
),
created AS (
    SELECT project_id, day, action, count(*) FILTER (WHERE created) AS users FROM upserted GROUP BY 1, 2, 3
)
INSERT INTO rollup_day_actions AS r (project_id, day, action, users, events, durations, duration_sum)
SELECT b.project_id, b.day, b.action, coalesce(max(c.users), 0), sum(b.events), sum(b.durations), sum(b.duration_sum)
FROM batch b
LEFT JOIN created c ON c.project_id = b.project_id AND c.day = b.day AND c.action = b.action
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (project_id, day, action) DO UPDATE SET
    users = r.users + EXCLUDED.users,
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
