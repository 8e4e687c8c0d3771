-- The most used elements from :first through :until (the span of the per-minute chart):
-- events, distinct users and mean duration each, most events first, ties in byte order.
SELECT element,
       count(*)                AS events,
       count(DISTINCT person_id) AS users,
       avg(duration)             AS avg_duration
FROM events_people
WHERE project_id = :project_id
  AND "timestamp" >= CAST(:first AS timestamptz)
  AND "timestamp" <= CAST(:until AS timestamptz)
  AND element IS NOT NULL
GROUP BY element
ORDER BY count(*) DESC, element COLLATE "C"
LIMIT :limit
