INSERT INTO rollup_minutes AS r (project_id, minute, events, durations, duration_sum)
SELECT project_id, date_trunc('minute', "timestamp"), count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM rollup_batch
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT (project_id, minute) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
