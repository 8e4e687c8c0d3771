-- Presence per (action, user id, UTC day) with the UTC hours it covers, and per (day, action)
-- the distinct ids: as rollup_apply_2_day_users, per action. One statement:
-- rollup_day_action_users, then rollup_day_actions, each in key order.
WITH batch AS (
    SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, action, user_id,
           bit_or(1 << CAST(extract(hour FROM "timestamp" AT TIME ZONE 'UTC') AS integer)) AS hours
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
)
INSERT INTO rollup_day_actions AS r (project_id, day, action, users)
SELECT project_id, day, action, count(*) FILTER (WHERE created)
FROM upserted
GROUP BY 1, 2, 3
HAVING count(*) FILTER (WHERE created) > 0
ORDER BY 1, 2, 3
ON CONFLICT (project_id, day, action) DO UPDATE SET users = r.users + EXCLUDED.users
