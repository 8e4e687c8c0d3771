INSERT INTO rollup_heatmap AS r (project_id, weekday, hour, events, durations, duration_sum)
SELECT project_id,
       extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::smallint,
       extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::smallint,
       count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM rollup_batch
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (project_id, weekday, hour) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
