-- Presence per (user id, UTC week), the week named by its Monday (sql/012_week_presence.sql):
-- the batch's pairs not stored yet are inserted, the others left alone. Keys in order.
INSERT INTO rollup_week_users (project_id, week, user_id)
SELECT DISTINCT project_id, CAST(date_trunc('week', "timestamp" AT TIME ZONE 'UTC') AS date), user_id
FROM rollup_batch
ORDER BY 1, 2, 3
ON CONFLICT (project_id, week, user_id) DO NOTHING
