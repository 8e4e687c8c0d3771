-- GET /metrics/funnel's input: the events whose action is one of the steps', as (person, epoch
-- seconds, action, element), grouped by person and in time order (engine.core.funnel walks them).
SELECT e.person, CAST(extract(epoch FROM e."timestamp") AS double precision), e.action, e.element
FROM /* filtered events */ AS e
WHERE e.action = ANY (CAST(:step_actions AS text[]))
ORDER BY 1, 2
