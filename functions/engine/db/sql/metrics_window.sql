-- The headline numbers of GET /metrics over the whole minutes :first through :last, from the
-- rollups the drain keeps in the transaction that stores the events (no raw event is read).
-- Distinct people: presence rows of the window, each id resolved to its person now, grouped
-- (a hash aggregate; count(DISTINCT ...) sorts, several times slower on 60,000 rows).
SELECT coalesce(sum(r.events), 0)                    AS events,
       (SELECT count(*) FROM (
            SELECT coalesce(l.person_id, m.user_id)
            FROM rollup_minute_users m
            LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
            WHERE m.project_id = :project_id
              AND m.minute >= CAST(:first AS timestamptz)
              AND m.minute <= CAST(:last AS timestamptz)
            GROUP BY 1) AS people)                 AS users,
       sum(r.duration_sum) / nullif(sum(r.durations), 0) AS avg_duration
FROM rollup_minutes r
WHERE r.project_id = :project_id
  AND r.minute >= CAST(:first AS timestamptz)
  AND r.minute <= CAST(:last AS timestamptz)
