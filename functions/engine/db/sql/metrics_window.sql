-- The headline numbers of GET /metrics over (since, until]: read from events directly,
-- so an event counts as soon as the drain commits it.
SELECT count(*)                AS events,
       count(DISTINCT person_id) AS users,
       avg(duration)           AS avg_duration
FROM events_people
WHERE project_id = :project_id
  AND "timestamp" > :since
  AND "timestamp" <= :until
