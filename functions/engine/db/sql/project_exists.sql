-- Whether a project exists.
SELECT 1 FROM projects WHERE id = :id
