-- As erase_rollup_1_hour_actions.sql, per UTC hour and element.
WITH gone AS (
    SELECT project_id, date_trunc('hour', "timestamp", 'UTC') AS hour, element, count(*) AS events,
           count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    WHERE element IS NOT NULL
    GROUP BY 1, 2, 3
),
emptied AS (
    DELETE FROM rollup_hour_elements r USING gone g
    WHERE r.project_id = g.project_id AND r.hour = g.hour AND r.element = g.element AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_hour_elements r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = g.project_id AND r.hour = g.hour AND r.element = g.element AND r.events <> g.events
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
