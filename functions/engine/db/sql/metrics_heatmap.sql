-- Events per ISO weekday (1 = Monday) and hour (UTC) over (:since, :until], all 168 cells,
-- zeros included, Monday 00h first. Over the last 7 days each cell is one hour of the week,
-- and the query reads events directly so that the chart is live; activity_heatmap (all
-- retained events, as of its last refresh) answers the same question for Grafana and SQL.
WITH counts AS (
    SELECT extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::integer AS weekday,
           extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::integer   AS hour,
           count(*)                                                     AS events
    FROM events
    WHERE project_id = :project_id
      AND "timestamp" > CAST(:since AS timestamptz)
      AND "timestamp" <= CAST(:until AS timestamptz)
    GROUP BY 1, 2
)
SELECT d.weekday, h.hour, coalesce(c.events, 0) AS events
FROM generate_series(1, 7) AS d (weekday)
CROSS JOIN generate_series(0, 23) AS h (hour)
LEFT JOIN counts c ON c.weekday = d.weekday AND c.hour = h.hour
ORDER BY d.weekday, h.hour
