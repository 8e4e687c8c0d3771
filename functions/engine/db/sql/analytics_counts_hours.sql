-- GET /metrics/timeseries's counts per bucket with no filter or only an action filter: the whole
-- UTC hours of each (bucket, day, hours) piece (engine.core.day_pieces, no counters) from
-- rollup_hour_actions (every action, or those asked for), the minutes at the buckets' edges from
-- rollup_minutes, or with actions from the raw events of those actions. Only the branches of one
-- case run.
SELECT bucket, sum(events), sum(durations), sum(duration_sum)
FROM (
    SELECT k.bucket, h.events, h.durations, h.duration_sum
    FROM unnest(CAST(:day_buckets AS integer[]), CAST(:days AS date[]), CAST(:day_hours AS integer[])) AS k (bucket, day, hours)
    JOIN rollup_hour_actions h ON h.project_id = :project_id
     AND (cardinality(CAST(:actions AS text[])) = 0 OR h.action = ANY (CAST(:actions AS text[])))
     AND h.hour >= CAST(k.day AS timestamp) AT TIME ZONE 'UTC' AND h.hour < CAST(k.day + 1 AS timestamp) AT TIME ZONE 'UTC'
     AND k.hours & (1 << CAST(extract(hour FROM h.hour AT TIME ZONE 'UTC') AS integer)) <> 0
    UNION ALL
    SELECT k.bucket, m.events, m.durations, m.duration_sum
    FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
    JOIN rollup_minutes m ON m.project_id = :project_id AND m.minute >= k.low AND m.minute < k.high
    WHERE cardinality(CAST(:actions AS text[])) = 0
    UNION ALL
    SELECT k.bucket, 1, CASE WHEN e.duration IS NULL THEN 0 ELSE 1 END, coalesce(CAST(e.duration AS numeric), 0)
    FROM unnest(CAST(:span_buckets AS integer[]), CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (bucket, low, high)
    JOIN events e ON e.project_id = :project_id AND e."timestamp" >= k.low AND e."timestamp" < k.high
     AND e.action = ANY (CAST(:actions AS text[]))
    WHERE cardinality(CAST(:actions AS text[])) > 0
) AS c
GROUP BY bucket
