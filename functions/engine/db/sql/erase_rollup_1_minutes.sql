-- Subtract rollup_batch (the erased events) from rollup_minutes: a row they make up wholly is
-- deleted, as a recomputation would not have it; the others are decremented. The two touch
-- disjoint rows, so one statement does both.
WITH gone AS (
    SELECT project_id, date_trunc('minute', "timestamp") AS minute, count(*) AS events,
           count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1, 2
),
emptied AS (
    DELETE FROM rollup_minutes r USING gone g
    WHERE r.project_id = g.project_id AND r.minute = g.minute AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_minutes r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = g.project_id AND r.minute = g.minute AND r.events <> g.events
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
