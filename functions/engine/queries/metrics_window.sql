-- The headline numbers of GET /metrics over (since, until]: read from events directly,
-- so an event counts as soon as the drain commits it.
SELECT count(*)                AS events,
       count(DISTINCT user_id) AS users,
       avg(duration)           AS avg_duration
FROM events
WHERE project_id = :project_id
  AND "timestamp" > :since
  AND "timestamp" <= :until
