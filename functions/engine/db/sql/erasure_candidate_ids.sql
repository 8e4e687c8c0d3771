-- Every id a project still knows (with counted events, traits, memberships or links): what a
-- replay of erasure records after a restore hashes to find the ids they erased.
SELECT user_id FROM rollup_users WHERE project_id = :project_id
UNION SELECT user_id FROM users WHERE project_id = :project_id
UNION SELECT user_id FROM group_members WHERE project_id = :project_id
UNION SELECT alias_id FROM identity_links WHERE project_id = :project_id
UNION SELECT person_id FROM identity_links WHERE project_id = :project_id
