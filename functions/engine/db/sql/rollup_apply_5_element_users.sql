WITH seen AS (
    INSERT INTO rollup_element_users (project_id, user_id, element)
    SELECT DISTINCT project_id, user_id, element
    FROM rollup_batch
    WHERE element IS NOT NULL
    ORDER BY 1, 2, 3
    ON CONFLICT (project_id, user_id, element) DO NOTHING
    RETURNING project_id, user_id, element
)
INSERT INTO rollup_fresh (kind, project_id, user_id, element)
SELECT 'e', project_id, user_id, element FROM seen
