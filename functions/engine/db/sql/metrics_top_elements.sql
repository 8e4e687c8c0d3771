-- Most used elements over the whole minutes :first through :last; ties broken by the
-- element's bytes (COLLATE "C") so the order is the same on every server whatever its locale.
SELECT element, sum(events) AS count
FROM rollup_minute_elements
WHERE project_id = :project_id
  AND minute >= CAST(:first AS timestamptz)
  AND minute <= CAST(:last AS timestamptz)
GROUP BY element
ORDER BY sum(events) DESC, element COLLATE "C"
LIMIT :limit
