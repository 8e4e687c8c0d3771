-- Events per ISO weekday (1 = Monday) and hour (UTC) over the minutes :first through :last,
-- all 168 cells, zeros included, Monday 00h first, from rollup_minutes (one row per minute
-- that had events). activity_heatmap answers the same question over all time.
WITH counts AS (
    SELECT extract(isodow FROM minute AT TIME ZONE 'UTC')::integer AS weekday,
           extract(hour FROM minute AT TIME ZONE 'UTC')::integer   AS hour,
           sum(events)                                             AS events
    FROM rollup_minutes
    WHERE project_id = :project_id
      AND minute >= CAST(:first AS timestamptz)
      AND minute <= CAST(:last AS timestamptz)
    GROUP BY 1, 2
)
SELECT d.weekday, h.hour, coalesce(c.events, 0) AS events
FROM generate_series(1, 7) AS d (weekday)
CROSS JOIN generate_series(0, 23) AS h (hour)
LEFT JOIN counts c ON c.weekday = d.weekday AND c.hour = h.hour
ORDER BY d.weekday, h.hour
