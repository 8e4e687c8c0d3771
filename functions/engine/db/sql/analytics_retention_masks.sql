-- GET /metrics/retention with at most 62 buckets (engine.db.analytics_reads.retention): the same
-- cells as analytics_retention without grouping presence by (period, person) and joining it back
-- to the cohorts. One row per person: the cohort (the period of their first presence in the range)
-- and a bigint with bit period - 1 set for each period they were present in; people who share
-- both are counted together (at 3 M events, 50,000 people share 4,669 pairs), and per (cohort, k)
-- the pairs whose bit cohort - 1 + k is set add their people, for k up to :periods and the last
-- bucket (:buckets). With :by_day (no filter or only action) the presence comes from the day
-- rollups (engine.core.day_pieces), else from the minute presence or raw events; only one branch runs.
WITH present AS (
    SELECT width_bucket(p.at, CAST(:bounds AS timestamptz[])) AS period, p.person
    FROM /* presence */ AS p
    WHERE NOT CAST(:by_day AS boolean)
    UNION ALL
    SELECT p.bucket, p.person
    FROM /* day presence */ AS p
    WHERE CAST(:by_day AS boolean)
),
people AS (
    SELECT min(period) AS cohort, bit_or(CAST(1 AS bigint) << (period - 1)) AS periods
    FROM present
    GROUP BY person
),
masks AS (
    SELECT cohort, periods, count(*) AS people FROM people GROUP BY 1, 2
)
SELECT m.cohort, k, sum(m.people)
FROM masks m
CROSS JOIN LATERAL generate_series(0, least(CAST(:periods AS integer), CAST(:buckets AS integer) - m.cohort)) AS k
WHERE m.periods & (CAST(1 AS bigint) << (m.cohort - 1 + k)) <> 0
GROUP BY 1, 2
