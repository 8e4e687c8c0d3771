-- GET /metrics/breakdown?by=element from the rollups (no filter, or only element): per element,
-- events, durations counted and their sum, then the distinct people of the elements kept, from
-- presence rows; most events first, ties in byte order.
WITH counts AS (
    SELECT element, sum(events) AS events, sum(durations) AS durations, sum(duration_sum) AS duration_sum
    FROM rollup_minute_elements
    WHERE project_id = :project_id
      AND minute >= CAST(:start AS timestamptz)
      AND minute < CAST(:end AS timestamptz)
      AND (cardinality(CAST(:elements AS text[])) = 0 OR element = ANY (CAST(:elements AS text[])))
    GROUP BY element
    ORDER BY sum(events) DESC, element COLLATE "C"
    LIMIT :limit
),
people AS (
    SELECT element, count(*) AS users
    FROM (SELECT m.element, coalesce(l.person_id, m.user_id)
          FROM counts c
          JOIN rollup_minute_users m ON m.project_id = :project_id AND m.element = c.element
           AND m.minute >= CAST(:start AS timestamptz) AND m.minute < CAST(:end AS timestamptz)
          LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
          GROUP BY 1, 2) AS present
    GROUP BY element
)
SELECT c.element, c.events, coalesce(p.users, 0), c.durations, c.duration_sum
FROM counts c
LEFT JOIN people p ON p.element = c.element
ORDER BY c.events DESC, c.element COLLATE "C"
