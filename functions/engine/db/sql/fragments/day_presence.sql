-- Who was present in which bucket (bucket, person), from the day rollups (/* day presence */,
-- engine.core.day_pieces), with no filter or only :actions: per (bucket, UTC day, hours) piece,
-- the day rows (of those actions) whose hours meet the piece's; per (bucket, start, end) span at
-- a bucket's edges, the minute presence rows in it, or with actions the raw events of those
-- actions in it. Ids are resolved to people through identity_links here, so links count at
-- once. Only the branches of one case run: the others' conditions are constants of the execution.
(SELECT k.bucket, coalesce(l.person_id, r.user_id) AS person
 FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
 JOIN rollup_day_users r ON r.project_id = :project_id AND r.day = k.day AND r.hours & k.hours <> 0
 LEFT JOIN identity_links l ON l.project_id = r.project_id AND l.alias_id = r.user_id
 WHERE cardinality(CAST(:actions AS text[])) = 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, r.user_id)
 FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
 JOIN rollup_day_action_users r ON r.project_id = :project_id AND r.day = k.day
  AND r.action = ANY (CAST(:actions AS text[])) AND r.hours & k.hours <> 0
 LEFT JOIN identity_links l ON l.project_id = r.project_id AND l.alias_id = r.user_id
 WHERE cardinality(CAST(:actions AS text[])) > 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, m.user_id)
 FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
 JOIN rollup_minute_users m ON m.project_id = :project_id AND m.minute >= k.low AND m.minute < k.high
 LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
 WHERE cardinality(CAST(:actions AS text[])) = 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, e.user_id)
 FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
 JOIN events e ON e.project_id = :project_id AND e."timestamp" >= k.low AND e."timestamp" < k.high
  AND e.action = ANY (CAST(:actions AS text[]))
 LEFT JOIN identity_links l ON l.project_id = e.project_id AND l.alias_id = e.user_id
 WHERE cardinality(CAST(:actions AS text[])) > 0)
