-- Their traits, group memberships and identity links; one row of counts.
WITH users_gone AS (
    DELETE FROM users WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[])) RETURNING 1
),
members_gone AS (
    DELETE FROM group_members WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[])) RETURNING 1
),
links_gone AS (
    DELETE FROM identity_links
    WHERE project_id = :project_id AND (alias_id = ANY (CAST(:ids AS varchar[])) OR person_id = ANY (CAST(:ids AS varchar[])))
    RETURNING 1
)
SELECT (SELECT count(*) FROM users_gone), (SELECT count(*) FROM members_gone), (SELECT count(*) FROM links_gone)
