-- Link :alias to the person :target belongs to (first link of an id wins), keeping chains
-- flat: whatever pointed at :alias now points at that person too.
WITH target AS (
    SELECT coalesce(
        (SELECT person_id FROM identity_links WHERE project_id = :project_id AND alias_id = CAST(:target AS varchar)),
        CAST(:target AS varchar)
    ) AS person
),
linked AS (
    INSERT INTO identity_links (project_id, alias_id, person_id)
    SELECT :project_id, CAST(:alias AS varchar), person FROM target WHERE person <> CAST(:alias AS varchar)
    ON CONFLICT (project_id, alias_id) DO NOTHING
    RETURNING alias_id
)
UPDATE identity_links
SET person_id = (SELECT person FROM target)
WHERE project_id = :project_id AND person_id = CAST(:alias AS varchar) AND alias_id <> (SELECT person FROM target)
