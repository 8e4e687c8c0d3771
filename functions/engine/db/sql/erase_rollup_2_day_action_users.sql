-- As erase_rollup_2_day_users, per action: the erased ids' rows of rollup_day_action_users go,
-- and rollup_day_actions loses one id per row removed and the erased events from its counts (a
-- (day, action) left with no id goes). Returns (rows deleted, rows updated).
WITH presence AS (
    DELETE FROM rollup_day_action_users
    WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
      AND (day IN (SELECT DISTINCT CAST("timestamp" AT TIME ZONE 'UTC' AS date) FROM rollup_batch)
           OR day <= coalesce(CAST((SELECT raw_kept_from FROM rollup_status) AT TIME ZONE 'UTC' AS date), '-infinity'))
    RETURNING day, action
),
erased AS (
    SELECT CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, action, count(*) AS events,
           count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1, 2
),
gone AS (
    SELECT p.day, p.action, p.users, coalesce(e.events, 0) AS events, coalesce(e.durations, 0) AS durations,
           coalesce(e.duration_sum, 0) AS duration_sum
    FROM (SELECT day, action, count(*) AS users FROM presence GROUP BY 1, 2) AS p
    LEFT JOIN erased e ON e.day = p.day AND e.action = p.action
),
emptied AS (
    DELETE FROM rollup_day_actions r USING gone g
    WHERE r.project_id = :project_id AND r.day = g.day AND r.action = g.action AND r.users = g.users
    RETURNING 1
),
updated AS (
    UPDATE rollup_day_actions r
    SET users = r.users - g.users, events = r.events - g.events, durations = r.durations - g.durations,
        duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = :project_id AND r.day = g.day AND r.action = g.action AND r.users <> g.users
    RETURNING 1
)
SELECT (SELECT count(*) FROM presence) + (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
