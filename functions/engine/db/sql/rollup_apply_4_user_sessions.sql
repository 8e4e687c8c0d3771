WITH seen AS (
    INSERT INTO rollup_user_sessions (project_id, user_id, session_id)
    SELECT DISTINCT project_id, user_id, session_id
    FROM rollup_batch
    WHERE session_id IS NOT NULL
    ORDER BY 1, 2, 3
    ON CONFLICT (project_id, user_id, session_id) DO NOTHING
    RETURNING project_id, user_id
)
INSERT INTO rollup_fresh (kind, project_id, user_id)
SELECT 's', project_id, user_id FROM seen
