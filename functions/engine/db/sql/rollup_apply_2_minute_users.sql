INSERT INTO rollup_minute_users (project_id, minute, user_id, element)
SELECT DISTINCT project_id, date_trunc('minute', "timestamp"), user_id, element
FROM rollup_batch
ORDER BY 1, 2, 3, 4
ON CONFLICT (project_id, minute, user_id, element) DO NOTHING
