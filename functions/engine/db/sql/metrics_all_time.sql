-- All retained events and people of a project, as of the last view refresh (project_totals).
SELECT coalesce((SELECT events FROM project_totals WHERE project_id = :project_id), 0) AS events,
       coalesce((SELECT users FROM project_totals WHERE project_id = :project_id), 0)  AS users
