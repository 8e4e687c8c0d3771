-- identify: merge traits into the user's; when two identifies disagree, the newer one's wins.
INSERT INTO users AS u (project_id, user_id, traits, traits_at, first_seen)
VALUES (:project_id, :user_id, CAST(:traits AS jsonb), CAST(:at AS timestamptz), CAST(:at AS timestamptz))
ON CONFLICT (project_id, user_id) DO UPDATE SET
    traits = CASE WHEN EXCLUDED.traits_at >= u.traits_at THEN u.traits || EXCLUDED.traits ELSE EXCLUDED.traits || u.traits END,
    traits_at = greatest(u.traits_at, EXCLUDED.traits_at),
    first_seen = least(u.first_seen, EXCLUDED.first_seen)
