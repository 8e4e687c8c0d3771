-- The erased ids' day presence rows go (they hold those ids alone), looked for in the UTC days
-- of their counted events and up to the day of raw_kept_from (where raw events are gone but day
-- rows may remain); rollup_days loses one id per row removed and the erased events (rollup_batch)
-- from its counts, and a day left with no id goes, as a recomputation would not have it.
-- Returns (rows deleted, rows updated).
WITH presence AS (
    DELETE FROM rollup_day_users
    WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
      AND (day IN (SELECT DISTINCT CAST("timestamp" AT TIME ZONE 'UTC' AS date) FROM rollup_batch)
           OR day <= coalesce(CAST((SELECT raw_kept_from FROM rollup_status) AT TIME ZONE 'UTC' AS date), '-infinity'))
    RETURNING day
),
erased AS (
    SELECT CAST("timestamp" AT TIME ZONE 'UTC' AS date) AS day, count(*) AS events,
           count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    GROUP BY 1
),
gone AS (
    SELECT p.day, p.users, coalesce(e.events, 0) AS events, coalesce(e.durations, 0) AS durations,
           coalesce(e.duration_sum, 0) AS duration_sum
    FROM (SELECT day, count(*) AS users FROM presence GROUP BY 1) AS p
    LEFT JOIN erased e ON e.day = p.day
),
emptied AS (
    DELETE FROM rollup_days r USING gone g
    WHERE r.project_id = :project_id AND r.day = g.day AND r.users = g.users
    RETURNING 1
),
updated AS (
    UPDATE rollup_days r
    SET users = r.users - g.users, events = r.events - g.events, durations = r.durations - g.durations,
        duration_sum = r.duration_sum - g.duration_sum
    FROM gone g
    WHERE r.project_id = :project_id AND r.day = g.day AND r.users <> g.users
    RETURNING 1
)
SELECT (SELECT count(*) FROM presence) + (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
