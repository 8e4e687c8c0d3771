-- GET /metrics/funnel's input: one row per user id that did any of the funnel's distinct steps
-- (step i: action :step_actions[i], element :step_elements[i] or any when that is ''), ordered by
-- its person (the id resolved through identity_links, in the "C" collation), with the times of
-- its events matching each step as numbers i * :step_base + time (the time in microseconds after
-- :start; :step_base exceeds any) in no order, each 8 bytes big-endian (int8send) one after the
-- other in a bytea: engine.db.analytics_reads merges a person's rows, sorts and splits them.
-- Integers keep the times exact, and an unordered list per id needs no sort of the events; as
-- bytes they are 8 a time in Python's memory until read (about 18 MB at 10 M events, against 31
-- MB as JSON text) and no slower to make than JSON.
--
-- Events are grouped per user id and only the groups are resolved to persons (about 50,000 rows
-- at 10 M events, against one join per event). The time is date_part's double-precision epoch of
-- the interval from :start, rounded: exact to the microsecond for any range within 1970-2100
-- (engine.core.query: under 2^32 seconds, whose rounding error stays under half a microsecond),
-- where extract's numeric costs a third more in this statement.
WITH per_id AS (
    SELECT e.user_id,
           string_agg(int8send(s.i * CAST(:step_base AS bigint)
                               + CAST(round(date_part('epoch', e."timestamp" - CAST(:start AS timestamptz)) * 1000000) AS bigint)), '') AS packed
    FROM events e
    JOIN unnest(CAST(:step_actions AS text[]), CAST(:step_elements AS text[])) WITH ORDINALITY AS s (action, element, i)
      ON e.action = s.action AND (s.element = '' OR e.element = s.element)
    WHERE e.project_id = :project_id
      AND e."timestamp" >= CAST(:start AS timestamptz)
      AND e."timestamp" < CAST(:end AS timestamptz)
      AND /* event filters */
    GROUP BY e.user_id
)
SELECT coalesce(l.person_id, p.user_id) COLLATE "C" AS person, p.packed
FROM per_id p
LEFT JOIN identity_links l ON l.project_id = :project_id AND l.alias_id = p.user_id
ORDER BY 1
