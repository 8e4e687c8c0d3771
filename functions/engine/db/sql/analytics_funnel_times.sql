-- GET /metrics/funnel's input: one row per person, the times of their events matching each of the
-- funnel's distinct steps (step i: action :step_actions[i], element :step_elements[i] or any when
-- that is ''), as one array of numbers i * :step_base + time (the time in microseconds after
-- :start; :step_base exceeds any) in no order, as JSON text (parsed in C, unlike pg8000's arrays):
-- engine.db.analytics_reads sorts and splits it. Integers keep the times exact, and an unordered
-- array per person needs no sort of the events.
WITH matched AS (
    SELECT e.person, s.i,
           CAST(extract(epoch FROM e."timestamp" - CAST(:start AS timestamptz)) * 1000000 AS bigint) AS at
    FROM /* filtered events */ AS e
    JOIN unnest(CAST(:step_actions AS text[]), CAST(:step_elements AS text[])) WITH ORDINALITY AS s (action, element, i)
      ON e.action = s.action AND (s.element = '' OR e.element = s.element)
)
SELECT CAST(array_to_json(array_agg(i * CAST(:step_base AS bigint) + at)) AS text)
FROM matched
GROUP BY person
