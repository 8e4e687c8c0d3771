-- The project of a name (names are unique).
SELECT id FROM projects WHERE name = :name
