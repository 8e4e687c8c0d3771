-- Who was present in which bucket (bucket, person), from the day rollups (/* day presence */,
-- engine.core.day_pieces), with no filter or only :actions: per (bucket, UTC week) piece, the
-- week's rows (with no action filter: the week rows carry none, and with one the pieces hold no
-- week); per (bucket, UTC day, hours) piece, the day rows (of those actions) whose hours meet the
-- piece's; per (bucket, start, end) span at a bucket's edges, the minute presence rows in it, or with actions the raw events of those
-- actions in it. Ids are resolved to people through identity_links here, so links count at
-- once; person is compared in the "C" collation (bytes: the same equality, a much cheaper sort).
-- Only the branches of one case run: the others' conditions are constants of the execution.
-- Each piece reads its own rows (LATERAL; OFFSET 0 keeps the planner from flattening it into a
-- join that scans every partition): an index range scan per piece. Each lateral repeats its
-- branch's condition, so that a branch that does not run costs no planning either (its events
-- partitions are pruned when the condition folds to false).
(SELECT k.bucket, coalesce(l.person_id, w.user_id) COLLATE "C" AS person
 FROM unnest(CAST(:week_buckets AS integer[]), CAST(:weeks AS date[])) AS k (bucket, week)
 CROSS JOIN LATERAL (SELECT w.user_id FROM rollup_week_users w
                     WHERE w.project_id = :project_id AND w.week = k.week
                       AND cardinality(CAST(:actions AS text[])) = 0 OFFSET 0) AS w
 LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = w.user_id
 WHERE cardinality(CAST(:actions AS text[])) = 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, r.user_id) COLLATE "C"
 FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
 CROSS JOIN LATERAL (SELECT r.user_id FROM rollup_day_users r
                     WHERE r.project_id = :project_id AND r.day = k.day AND r.hours & k.hours <> 0
                       AND cardinality(CAST(:actions AS text[])) = 0 OFFSET 0) AS r
 LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = r.user_id
 WHERE cardinality(CAST(:actions AS text[])) = 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, r.user_id) COLLATE "C"
 FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
 CROSS JOIN LATERAL (SELECT r.user_id FROM rollup_day_action_users r
                     WHERE r.project_id = :project_id AND r.day = k.day AND r.action = ANY (CAST(:actions AS text[]))
                       AND r.hours & k.hours <> 0 AND cardinality(CAST(:actions AS text[])) > 0 OFFSET 0) AS r
 LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = r.user_id
 WHERE cardinality(CAST(:actions AS text[])) > 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, m.user_id) COLLATE "C"
 FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
 CROSS JOIN LATERAL (SELECT m.user_id FROM rollup_minute_users m
                     WHERE m.project_id = :project_id AND m.minute >= k.low AND m.minute < k.high
                       AND cardinality(CAST(:actions AS text[])) = 0 OFFSET 0) AS m
 LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = m.user_id
 WHERE cardinality(CAST(:actions AS text[])) = 0
 UNION ALL
 SELECT k.bucket, coalesce(l.person_id, e.user_id) COLLATE "C"
 FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
 CROSS JOIN LATERAL (SELECT e.user_id FROM events e
                     WHERE e.project_id = :project_id AND e."timestamp" >= k.low AND e."timestamp" < k.high
                       AND e.action = ANY (CAST(:actions AS text[])) AND cardinality(CAST(:actions AS text[])) > 0
                       AND cardinality(CAST(:span_buckets AS integer[])) > 0 OFFSET 0) AS e
 LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = e.user_id
 WHERE cardinality(CAST(:actions AS text[])) > 0)
