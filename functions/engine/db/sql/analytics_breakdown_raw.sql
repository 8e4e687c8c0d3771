-- GET /metrics/breakdown over raw events: by action, element, user_id (the person) or one
-- property's value as text; events lacking the value are left out. Per value: events, people,
-- durations counted and their sum, most events first, ties in byte order.
SELECT value, count(*) AS events, count(DISTINCT person), count(duration), coalesce(sum(CAST(duration AS numeric)), 0)
FROM (
    SELECT CASE CAST(:by AS text)
               WHEN 'action' THEN CAST(e.action AS text)
               WHEN 'element' THEN CAST(e.element AS text)
               WHEN 'user_id' THEN CAST(e.person AS text)
               ELSE e.properties ->> CAST(:key AS text)
           END AS value,
           e.person,
           e.duration
    FROM /* filtered events */ AS e
) AS v
WHERE value IS NOT NULL
GROUP BY value
ORDER BY events DESC, value COLLATE "C"
LIMIT :limit
