-- As erase_rollup_1_minutes.sql, per ISO weekday and UTC hour.
WITH gone AS (
    SELECT project_id,
           extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::smallint AS weekday,
           extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::smallint AS hour,
           count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1, 2, 3
),
emptied AS (
    DELETE FROM rollup_heatmap r USING gone g
    WHERE r.project_id = g.project_id AND r.weekday = g.weekday AND r.hour = g.hour AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_heatmap r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = g.project_id AND r.weekday = g.weekday AND r.hour = g.hour AND r.events <> g.events
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
