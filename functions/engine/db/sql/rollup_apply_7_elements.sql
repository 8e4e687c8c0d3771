WITH batch AS (
    SELECT project_id, element, count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    WHERE element IS NOT NULL
    GROUP BY 1, 2
),
fresh AS (
    SELECT project_id, element, count(*) AS users FROM rollup_fresh WHERE kind = 'e' GROUP BY 1, 2
)
INSERT INTO rollup_elements AS r (project_id, element, events, durations, duration_sum, users)
SELECT b.project_id, b.element, b.events, b.durations, b.duration_sum, coalesce(f.users, 0)
FROM batch b
LEFT JOIN fresh f ON f.project_id = b.project_id AND f.element = b.element
ORDER BY b.project_id, b.element
ON CONFLICT (project_id, element) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum,
    users = r.users + EXCLUDED.users
