-- Presence per (user id, element) with the UTC day of the pair's newest event: a known pair is
-- updated only when the batch brings a later day (at most once a day), so most batches leave it
-- alone. The pairs inserted (xmax = 0) are new: the users and elements counters add them.
WITH seen AS (
    INSERT INTO rollup_element_users AS r (project_id, user_id, element, last_day)
    SELECT project_id, user_id, element, max(CAST("timestamp" AT TIME ZONE 'UTC' AS date))
    FROM rollup_batch
    WHERE element IS NOT NULL
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (project_id, user_id, element) DO UPDATE SET last_day = EXCLUDED.last_day
    WHERE EXCLUDED.last_day > r.last_day
    RETURNING project_id, user_id, element, (xmax = 0) AS created
)
INSERT INTO rollup_fresh (kind, project_id, user_id, element)
SELECT 'e', project_id, user_id, element FROM seen WHERE created
