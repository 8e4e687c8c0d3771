-- GET /metrics/sessions over raw events (sessions need each person's sequence). A session is a
-- person's events with one client session_id; a person's events without one are split where two
-- consecutive ones are :gap seconds or more apart. Length = last event - first event.
WITH ev AS (
    SELECT e.person, e.session_id, e."timestamp" AS at
    FROM /* filtered events */ AS e
),
marked AS (
    SELECT person, session_id, at,
           CASE WHEN at - lag(at) OVER w < make_interval(secs => CAST(:gap AS double precision)) THEN 0 ELSE 1 END AS starts
    FROM ev
    WINDOW w AS (PARTITION BY person, session_id ORDER BY at)
),
numbered AS (
    SELECT person, session_id, at,
           CASE WHEN session_id IS NULL
                THEN sum(starts) OVER (PARTITION BY person, session_id ORDER BY at ROWS UNBOUNDED PRECEDING)
                ELSE 0 END AS seq
    FROM marked
),
sessions AS (
    SELECT count(*) AS events, extract(epoch FROM max(at) - min(at)) AS length
    FROM numbered
    GROUP BY person, session_id, seq
)
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(length AS double precision)),
       avg(length),
       count(*) FILTER (WHERE events = 1),
       coalesce(sum(events), 0)
FROM sessions
