-- GET /metrics/retention: period = width_bucket over :bounds; a person's cohort is the period of
-- their first presence in the range; per (cohort, k) the people of the cohort present in period
-- cohort + k, for k up to :periods.
WITH present AS (
    SELECT width_bucket(p.at, CAST(:bounds AS timestamptz[])) AS period, p.person
    FROM /* presence */ AS p
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
