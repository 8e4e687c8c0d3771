-- GET /metrics/timeseries's counts per bucket with no filter or only an action filter: a bucket
-- that is one whole UTC day from its day counter (rollup_days, or rollup_day_actions summed over
-- the actions asked for; sql/014_day_counts.sql), the whole UTC hours of each other (bucket, day,
-- hours) piece (engine.core.day_pieces) from rollup_hour_actions (every action, or those asked
-- for), the minutes at the buckets' edges from rollup_minutes, or with actions from the raw
-- events of those actions. Only the branches of one case run; each piece reads its own rows
-- (LATERAL; OFFSET 0 keeps the planner from flattening it into a join that scans every
-- partition): an index range scan per piece. Each lateral repeats its branch's condition: a
-- subquery is planned on its own, and only a condition inside it that folds to false spares the
-- planner its events partitions (64 at 90 days: milliseconds a request).
SELECT bucket, sum(events), sum(durations), sum(duration_sum)
FROM (
    SELECT k.bucket, d.events, d.durations, d.duration_sum
    FROM unnest(CAST(:counted_buckets AS integer[]), CAST(:counted_days AS date[])) AS k (bucket, day)
    JOIN rollup_days d ON d.project_id = :project_id AND d.day = k.day
    WHERE cardinality(CAST(:actions AS text[])) = 0
    UNION ALL
    SELECT k.bucket, d.events, d.durations, d.duration_sum
    FROM unnest(CAST(:counted_buckets AS integer[]), CAST(:counted_days AS date[])) AS k (bucket, day)
    JOIN rollup_day_actions d ON d.project_id = :project_id AND d.day = k.day AND d.action = ANY (CAST(:actions AS text[]))
    WHERE cardinality(CAST(:actions AS text[])) > 0
    UNION ALL
    SELECT k.bucket, h.events, h.durations, h.duration_sum
    FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
    CROSS JOIN LATERAL (
        SELECT h.events, h.durations, h.duration_sum FROM rollup_hour_actions h
        WHERE h.project_id = :project_id
          AND h.hour >= CAST(k.day AS timestamp) AT TIME ZONE 'UTC' AND h.hour < CAST(k.day + 1 AS timestamp) AT TIME ZONE 'UTC'
          AND (cardinality(CAST(:actions AS text[])) = 0 OR h.action = ANY (CAST(:actions AS text[])))
          AND k.hours & (1 << CAST(extract(hour FROM h.hour AT TIME ZONE 'UTC') AS integer)) <> 0 OFFSET 0) AS h
    UNION ALL
    SELECT k.bucket, m.events, m.durations, m.duration_sum
    FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
    CROSS JOIN LATERAL (
        SELECT m.events, m.durations, m.duration_sum FROM rollup_minutes m
        WHERE m.project_id = :project_id AND m.minute >= k.low AND m.minute < k.high
          AND cardinality(CAST(:actions AS text[])) = 0 OFFSET 0) AS m
    WHERE cardinality(CAST(:actions AS text[])) = 0
    UNION ALL
    SELECT k.bucket, 1, CASE WHEN e.duration IS NULL THEN 0 ELSE 1 END, coalesce(CAST(e.duration AS numeric), 0)
    FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
    CROSS JOIN LATERAL (
        SELECT e.duration FROM events e
        WHERE e.project_id = :project_id AND e."timestamp" >= k.low AND e."timestamp" < k.high
          AND e.action = ANY (CAST(:actions AS text[]))
          AND cardinality(CAST(:actions AS text[])) > 0 AND cardinality(CAST(:span_buckets AS integer[])) > 0 OFFSET 0) AS e
    WHERE cardinality(CAST(:actions AS text[])) > 0
) AS c
GROUP BY bucket
