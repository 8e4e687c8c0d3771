-- Presence per (user id, UTC day) with the UTC hours it covers, and per day the distinct ids:
-- the rows the upsert inserted (xmax = 0) are ids new to the day. A known row is updated only
-- when the batch adds an hour, so most batches leave it alone (and it is not returned).
-- One statement: rollup_day_users, then rollup_days, each in key order (sql/011_day_presence.sql).
WITH batch AS (
    SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, user_id,
           bit_or(1 << CAST(extract(hour FROM "timestamp" AT TIME ZONE 'UTC') AS integer)) AS hours
    FROM rollup_batch
    GROUP BY 1, 2, 3
),
upserted AS (
    INSERT INTO rollup_day_users AS r (project_id, day, user_id, hours)
    SELECT project_id, day, user_id, hours FROM batch
    ORDER BY 1, 2, 3
    ON CONFLICT (project_id, day, user_id) DO UPDATE SET hours = r.hours | EXCLUDED.hours
    WHERE r.hours | EXCLUDED.hours <> r.hours
    RETURNING project_id, day, (xmax = 0) AS created
)
INSERT INTO rollup_days AS r (project_id, day, users)
SELECT project_id, day, count(*) FILTER (WHERE created)
FROM upserted
GROUP BY 1, 2
HAVING count(*) FILTER (WHERE created) > 0
ORDER BY 1, 2
ON CONFLICT (project_id, day) DO UPDATE SET users = r.users + EXCLUDED.users
