-- The erased ids' sessions (presence rows: theirs alone).
DELETE FROM rollup_user_sessions WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
