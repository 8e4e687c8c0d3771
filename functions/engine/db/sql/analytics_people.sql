-- Distinct people per bucket (timeseries users, uniques): presence grouped per (bucket, person),
-- a hash aggregate, then counted per bucket.
SELECT bucket, count(*)
FROM (SELECT width_bucket(p.at, CAST(:bounds AS timestamptz[])) AS bucket, p.person
      FROM /* presence */ AS p
      GROUP BY 1, 2) AS present
GROUP BY bucket
