-- group: merge traits into the group's (the newer wins), and record the user as a member.
WITH g AS (
    INSERT INTO groups AS g (project_id, group_id, traits, traits_at)
    VALUES (:project_id, :group_id, CAST(:traits AS jsonb), CAST(:at AS timestamptz))
    ON CONFLICT (project_id, group_id) DO UPDATE SET
        traits = CASE WHEN EXCLUDED.traits_at >= g.traits_at THEN g.traits || EXCLUDED.traits ELSE EXCLUDED.traits || g.traits END,
        traits_at = greatest(g.traits_at, EXCLUDED.traits_at)
    RETURNING group_id
)
INSERT INTO group_members (project_id, group_id, user_id, joined_at)
VALUES (:project_id, :group_id, :user_id, CAST(:at AS timestamptz))
ON CONFLICT (project_id, group_id, user_id) DO UPDATE SET joined_at = least(group_members.joined_at, EXCLUDED.joined_at)
