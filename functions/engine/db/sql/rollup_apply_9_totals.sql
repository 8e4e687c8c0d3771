WITH batch AS (
    SELECT project_id, count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1
),
fresh AS (
    SELECT project_id, count(*) AS users FROM rollup_fresh WHERE kind = 'u' GROUP BY 1
)
INSERT INTO rollup_totals AS r (project_id, events, durations, duration_sum, users)
SELECT b.project_id, b.events, b.durations, b.duration_sum, coalesce(f.users, 0)
FROM batch b
LEFT JOIN fresh f ON f.project_id = b.project_id
ORDER BY b.project_id
ON CONFLICT (project_id) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum,
    users = r.users + EXCLUDED.users
