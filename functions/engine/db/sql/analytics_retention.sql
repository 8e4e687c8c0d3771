-- GET /metrics/retention: period = width_bucket over :bounds; a person's cohort is the period of
-- their first presence in the range; per (cohort, k) the people of the cohort present in period
-- cohort + k, for k up to :periods. With :by_day (no filter) the periods' presence comes from the
-- day rollups (engine.core.day_pieces, each piece numbered with its period), else from the
-- minute presence or raw events; only one branch runs.
WITH present AS (
    SELECT width_bucket(p.at, CAST(:bounds AS timestamptz[])) AS period, p.person
    FROM /* presence */ AS p
    WHERE NOT CAST(:by_day AS boolean)
    GROUP BY 1, 2
    UNION ALL
    SELECT p.bucket, p.person
    FROM /* day presence */ AS p
    WHERE CAST(:by_day AS boolean)
    GROUP BY 1, 2
),
cohorts AS (
    SELECT person, min(period) AS cohort FROM present GROUP BY person
)
SELECT c.cohort, p.period - c.cohort AS k, count(*)
FROM present p
JOIN cohorts c ON c.person = p.person
WHERE p.period - c.cohort <= :periods
GROUP BY 1, 2
