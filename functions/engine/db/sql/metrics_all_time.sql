-- All events and people a project ever stored: the drain's own totals, as of its last commit.
SELECT coalesce((SELECT events FROM project_totals WHERE project_id = :project_id), 0) AS events,
       coalesce((SELECT users FROM project_totals WHERE project_id = :project_id), 0)  AS users
