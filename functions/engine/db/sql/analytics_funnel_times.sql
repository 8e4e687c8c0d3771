-- GET /metrics/funnel's input: one row per person, the times of their events matching each of the
-- funnel's distinct steps (step i: action :step_actions[i], element :step_elements[i] or any when
-- that is ''), as one array of numbers (time * 32 + i, the time in microseconds after :start) in
-- no order: engine.db.analytics_reads sorts and splits it. Integers keep the times exact, and one
-- unordered array per person needs no sort of the events in PostgreSQL.
WITH matched AS (
    SELECT e.person, s.i,
           CAST(extract(epoch FROM e."timestamp" - CAST(:start AS timestamptz)) * 1000000 AS bigint) AS at
    FROM /* filtered events */ AS e
    JOIN unnest(CAST(:step_actions AS text[]), CAST(:step_elements AS text[])) WITH ORDINALITY AS s (action, element, i)
      ON e.action = s.action AND (s.element = '' OR e.element = s.element)
)
SELECT CAST(array_agg(at * 32 + i) AS text)
FROM matched
GROUP BY person
