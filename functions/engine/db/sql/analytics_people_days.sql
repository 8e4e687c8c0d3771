-- Distinct people per bucket with no filter or only an action filter, from the day rollups
-- (engine.core.day_pieces): a bucket that is one whole UTC day is its counter (rollup_days, or
-- rollup_day_actions for the one action asked for) less the overcount of linked people that day
-- (ids present - persons present, over identity_people's few rows); the others group their day
-- presence pieces per (bucket, person).
SELECT bucket, count(*)
FROM (SELECT p.bucket, p.person FROM /* day presence */ AS p GROUP BY 1, 2) AS present
GROUP BY bucket
UNION ALL
SELECT k.bucket, d.users - coalesce((
    SELECT count(*) - count(DISTINCT i.person_id)
    FROM identity_people i
    JOIN rollup_day_users r ON r.project_id = i.project_id AND r.day = k.day AND r.user_id = i.user_id
    WHERE i.project_id = :project_id), 0)
FROM unnest(CAST(:counted_buckets AS integer[]), CAST(:counted_days AS date[])) AS k (bucket, day)
JOIN rollup_days d ON d.project_id = :project_id AND d.day = k.day
WHERE cardinality(CAST(:actions AS text[])) = 0
UNION ALL
SELECT k.bucket, d.users - coalesce((
    SELECT count(*) - count(DISTINCT i.person_id)
    FROM identity_people i
    JOIN rollup_day_action_users r ON r.project_id = i.project_id AND r.day = k.day AND r.action = d.action AND r.user_id = i.user_id
    WHERE i.project_id = :project_id), 0)
FROM unnest(CAST(:counted_buckets AS integer[]), CAST(:counted_days AS date[])) AS k (bucket, day)
JOIN rollup_day_actions d ON d.project_id = :project_id AND d.day = k.day AND d.action = (CAST(:actions AS text[]))[1]
WHERE cardinality(CAST(:actions AS text[])) = 1
