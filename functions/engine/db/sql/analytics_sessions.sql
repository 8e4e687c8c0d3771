-- GET /metrics/sessions over raw events (sessions need each person's sequence). A session is a
-- person's events with one client session_id; a person's events without one are split where two
-- consecutive ones are :gap seconds or more apart. Length = last event - first event.
-- Events with a session_id need only grouping (no time order, and PostgreSQL splits it over its
-- parallel workers), so only those without one go through the window functions that find the gaps.
WITH identified AS (
    SELECT count(*) AS events, extract(epoch FROM max(e."timestamp") - min(e."timestamp")) AS length
    FROM /* filtered events */ AS e
    WHERE e.session_id IS NOT NULL
    GROUP BY e.person, e.session_id
),
marked AS (
    SELECT e.person, e."timestamp" AS at,
           CASE WHEN e."timestamp" - lag(e."timestamp") OVER (PARTITION BY e.person ORDER BY e."timestamp")
                     < make_interval(secs => CAST(:gap AS double precision))
                THEN 0 ELSE 1 END AS starts
    FROM /* filtered events */ AS e
    WHERE e.session_id IS NULL
),
unidentified AS (
    SELECT count(*) AS events, extract(epoch FROM max(at) - min(at)) AS length
    FROM (SELECT person, at, sum(starts) OVER (PARTITION BY person ORDER BY at ROWS UNBOUNDED PRECEDING) AS seq
          FROM marked) AS numbered
    GROUP BY person, seq
),
sessions AS (
    SELECT events, length FROM identified
    UNION ALL
    SELECT events, length FROM unidentified
)
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(length AS double precision)),
       avg(length),
       count(*) FILTER (WHERE events = 1),
       coalesce(sum(events), 0)
FROM sessions
