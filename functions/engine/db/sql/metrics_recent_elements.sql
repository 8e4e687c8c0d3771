-- The most used elements from the minute :first through the minute :last (the span of the
-- per-minute chart): events, distinct people and mean duration each, most events first, ties
-- in byte order.
WITH counts AS (
    SELECT element, sum(events) AS events, sum(duration_sum) / nullif(sum(durations), 0) AS avg_duration
    FROM rollup_minute_elements
    WHERE project_id = :project_id
      AND minute >= CAST(:first AS timestamptz)
      AND minute <= CAST(:last AS timestamptz)
    GROUP BY element
    ORDER BY sum(events) DESC, element COLLATE "C"
    LIMIT :limit
)
SELECT c.element,
       c.events,
       (SELECT count(*) FROM (
            SELECT coalesce(l.person_id, m.user_id)
            FROM rollup_minute_users m
            LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
            WHERE m.project_id = :project_id AND m.element = c.element
              AND m.minute >= CAST(:first AS timestamptz)
              AND m.minute <= CAST(:last AS timestamptz)
            GROUP BY 1) AS people) AS users,
       c.avg_duration
FROM counts c
ORDER BY c.events DESC, c.element COLLATE "C"
