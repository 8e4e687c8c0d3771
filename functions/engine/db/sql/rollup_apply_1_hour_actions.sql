-- Events, durations counted and their sum per (action, UTC hour): the counts of an action
-- filter over whole hours (sql/011_day_presence.sql).
INSERT INTO rollup_hour_actions AS r (project_id, hour, action, events, durations, duration_sum)
SELECT project_id, date_trunc('hour', "timestamp", 'UTC'), action, count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM rollup_batch
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (project_id, hour, action) DO UPDATE SET
    events = r.events + EXCLUDED.events,
    durations = r.durations + EXCLUDED.durations,
    duration_sum = r.duration_sum + EXCLUDED.duration_sum
