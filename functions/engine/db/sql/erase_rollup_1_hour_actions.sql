-- Subtract rollup_batch (the erased events) from rollup_hour_actions: a row they make up wholly
-- is deleted, the others are decremented (as erase_rollup_1_minutes). Returns (deleted, updated).
WITH gone AS (
    SELECT project_id, action, date_trunc('hour', "timestamp", 'UTC') AS hour, count(*) AS events,
           count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1, 2, 3
),
emptied AS (
    DELETE FROM rollup_hour_actions r USING gone g
    WHERE r.project_id = g.project_id AND r.action = g.action AND r.hour = g.hour AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_hour_actions r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = g.project_id AND r.action = g.action AND r.hour = g.hour AND r.events <> g.events
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
