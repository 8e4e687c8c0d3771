-- The person an id belongs to (itself unless linked) and every id linked to that person;
-- links are kept flat (sql/007_segment.sql), so one step finds them all.
WITH person AS (
    SELECT coalesce(
        (SELECT person_id FROM identity_links WHERE project_id = :project_id AND alias_id = CAST(:user_id AS varchar)),
        CAST(:user_id AS varchar)
    ) AS id
)
SELECT id FROM person
UNION
SELECT alias_id FROM identity_links WHERE project_id = :project_id AND person_id = (SELECT id FROM person)
UNION
SELECT CAST(:user_id AS varchar)
