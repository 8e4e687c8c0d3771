-- Presence per (user id, UTC day) with the UTC hours it covers, and per day the distinct ids and
-- the events, durations counted and their sum: the rows the upsert inserted (xmax = 0) are ids
-- new to the day. A known row is updated only when the batch adds an hour, so most batches leave
-- it alone (and it is not returned). One statement: rollup_day_users, then rollup_days, each in
-- key order (sql/011_day_presence.sql, sql/014_day_counts.sql).
WITH batch AS (
    SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, user_id,
           bit_or(1 << CAST(extract(hour FROM "timestamp" AT TIME ZONE 'UTC') AS integer)) AS hours,
           count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
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
),
created AS (
    SELECT project_id, day, count(*) FILTER (WHERE created) AS users FROM upserted GROUP BY 1, 2
)
INSERT INTO rollup_days AS r (project_id, day, users, events, durations, duration_sum)
SELECT b.project_id, b.day, coalesce(max(c.users), 0), sum(b.events), sum(b.durations), sum(b.duration_sum)
FROM batch b
LEFT JOIN created c ON c.project_id = b.project_id AND c.day = b.day
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT (project_id, day) DO UPDATE SET
    users = r.users + EXCLUDED.users,
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
