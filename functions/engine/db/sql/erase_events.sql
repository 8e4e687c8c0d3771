-- The person's events (events_project_user finds them without reading the project's others).
DELETE FROM events WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
