-- Most used elements over (since, until]; ties broken by the element's bytes (COLLATE "C")
-- so the order is the same on every server whatever its locale.
SELECT element, count(*) AS count
FROM events
WHERE project_id = :project_id
  AND "timestamp" > :since
  AND "timestamp" <= :until
  AND element IS NOT NULL
GROUP BY element
ORDER BY count(*) DESC, element COLLATE "C"
LIMIT :limit
