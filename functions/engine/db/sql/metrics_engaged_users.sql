-- The most engaged people over all events ever stored, from user_engagement (a view over
-- rollup_users), as of the drain's last commit: most events first, then most total duration,
-- ties in byte order of user_id. Each row also carries the project's totals (project_totals).
SELECT u.user_id, u.events, u.total_duration, u.first_seen, u.last_seen, t.events, t.users
FROM user_engagement u
CROSS JOIN project_totals t
WHERE u.project_id = :project_id AND t.project_id = :project_id
ORDER BY u.events DESC, u.total_duration DESC, u.user_id COLLATE "C"
LIMIT :limit
