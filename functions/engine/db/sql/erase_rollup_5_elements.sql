-- The erased ids' element presence rows go; rollup_elements loses their events and, per
-- element, one distinct user per presence row removed (rollup_apply_7 added one per row made).
WITH presence AS (
    DELETE FROM rollup_element_users
    WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
    RETURNING element
),
users_gone AS (
    SELECT element, count(*) AS users FROM presence GROUP BY 1
),
counted AS (
    SELECT element, count(*) AS events, count(duration) AS durations, coalesce(sum(duration::numeric), 0) AS duration_sum
    FROM rollup_batch
    WHERE element IS NOT NULL
    GROUP BY 1
),
gone AS (
    SELECT coalesce(c.element, u.element) AS element, coalesce(c.events, 0) AS events, coalesce(c.durations, 0) AS durations,
           coalesce(c.duration_sum, 0) AS duration_sum, coalesce(u.users, 0) AS users
    FROM counted c
    FULL JOIN users_gone u ON u.element = c.element
),
emptied AS (
    DELETE FROM rollup_elements r USING gone g
    WHERE r.project_id = :project_id AND r.element = g.element AND r.events = g.events
    RETURNING 1
),
updated AS (
    UPDATE rollup_elements r
    SET events = r.events - g.events, durations = r.durations - g.durations, duration_sum = r.duration_sum - g.duration_sum,
        users = r.users - g.users
    FROM gone g
    WHERE r.project_id = :project_id AND r.element = g.element AND r.events <> g.events
    RETURNING 1
)
SELECT (SELECT count(*) FROM emptied), (SELECT count(*) FROM updated)
