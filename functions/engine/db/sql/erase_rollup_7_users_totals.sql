-- The erased ids' rollup_users rows go (one per id: theirs alone), and rollup_totals loses their
-- events and one distinct user id per row removed (rollup_apply_6 added one per row made).
WITH presence AS (
    DELETE FROM rollup_users
    WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
    RETURNING 1
),
gone AS (
    SELECT count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum,
           (SELECT count(*) FROM presence) AS users
    FROM rollup_batch
),
emptied AS (
    DELETE FROM rollup_totals r USING gone g
    WHERE r.project_id = :project_id AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_totals r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum,
        users = r.users - g.users
    FROM gone g
    WHERE r.project_id = :project_id AND r.events <> g.events AND (g.events > 0 OR g.users > 0)
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated), (SELECT count(*) FROM presence)
