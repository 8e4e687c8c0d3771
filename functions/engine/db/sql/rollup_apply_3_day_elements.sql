-- Events, durations counted and their sum per (UTC day, element): the element breakdown's
-- counts over whole days (sql/013_element_hours.sql).
INSERT INTO rollup_day_elements AS r (project_id, day, element, events, durations, duration_sum)
SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date), element, count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM rollup_batch
WHERE element IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (project_id, day, element) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
