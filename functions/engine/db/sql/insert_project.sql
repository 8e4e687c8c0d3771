-- A new project; its id is what its keys open.
INSERT INTO projects (name) VALUES (:name) RETURNING id
