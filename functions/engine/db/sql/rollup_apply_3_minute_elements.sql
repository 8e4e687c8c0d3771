INSERT INTO rollup_minute_elements AS r (project_id, minute, element, events, durations, duration_sum)
SELECT project_id, date_trunc('minute', "timestamp"), element, count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM rollup_batch
WHERE element IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (project_id, minute, element) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
