-- GET /metrics/timeseries's counts per bucket (width_bucket over :bounds, the bucket starts in
-- UTC and the range's end): events, durations counted, their sum. The range is whole minutes, so
-- the minute rollups answer it exactly: rollup_minutes without filters, rollup_minute_elements
-- with only an element filter, the filtered raw events (:raw) otherwise. One branch runs.
SELECT width_bucket(r.minute, CAST(:bounds AS timestamptz[])), sum(r.events), sum(r.durations), sum(r.duration_sum)
FROM rollup_minutes r
WHERE NOT CAST(:raw AS boolean) AND cardinality(CAST(:elements AS text[])) = 0
  AND r.project_id = :project_id AND r.minute >= CAST(:start AS timestamptz) AND r.minute < CAST(:end AS timestamptz)
GROUP BY 1
UNION ALL
SELECT width_bucket(r.minute, CAST(:bounds AS timestamptz[])), sum(r.events), sum(r.durations), sum(r.duration_sum)
FROM rollup_minute_elements r
WHERE NOT CAST(:raw AS boolean) AND r.element = ANY (CAST(:elements AS text[]))
  AND r.project_id = :project_id AND r.minute >= CAST(:start AS timestamptz) AND r.minute < CAST(:end AS timestamptz)
GROUP BY 1
UNION ALL
SELECT width_bucket(e."timestamp", CAST(:bounds AS timestamptz[])), count(*), count(e.duration),
       coalesce(sum(CAST(e.duration AS numeric)), 0)
FROM /* filtered events */ AS e
WHERE CAST(:raw AS boolean)
GROUP BY 1
