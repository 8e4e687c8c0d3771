-- GET /metrics/breakdown?by=element from the rollups (no filter, or only element): per element,
-- events, durations counted and their sum, then the distinct people of the elements kept; most
-- events first, ties in byte order. Counts: the range's whole UTC days from rollup_day_elements,
-- the whole hours around them from rollup_hour_elements, the minutes at its edges from
-- rollup_minute_elements (engine.core.day_pieces.range_cut).
--
-- People (sql/013_element_hours.sql): when the range ends at or after the project's newest event
-- (`reaches_newest`), an id has an event of the element in the range exactly when its pair's
-- newest event is at or after :start: pairs whose last_day is after the first UTC day, counted
-- from the index, plus those whose last_day is that day and that have minute presence from :start
-- to the day's end (the two sets intersected by hashing, each read once); ids resolved to persons
-- by subtracting the overcount of linked ids (as element_rankings). Otherwise every id present in
-- the range's minute presence, grouped per person. One statement, so the test and both readings see one snapshot; only one branch runs
-- (each is gated on `reaches_newest`, which PostgreSQL evaluates once, before either).
WITH counts AS (
    SELECT element, sum(events) AS events, sum(durations) AS durations, sum(duration_sum) AS duration_sum
    FROM (
        SELECT d.element, d.events, d.durations, d.duration_sum FROM rollup_day_elements d
        WHERE d.project_id = :project_id
          AND d.day >= CAST(:days_from AS date) AND d.day < CAST(:days_to AS date)
          AND (cardinality(CAST(:elements AS text[])) = 0 OR d.element = ANY (CAST(:elements AS text[])))
        UNION ALL
        SELECT h.element, h.events, h.durations, h.duration_sum
        FROM unnest(CAST(:hour_starts AS timestamptz[]), CAST(:hour_ends AS timestamptz[])) AS k (low, high)
        CROSS JOIN LATERAL (
            SELECT h.element, h.events, h.durations, h.duration_sum FROM rollup_hour_elements h
            WHERE h.project_id = :project_id AND h.hour >= k.low AND h.hour < k.high
              AND (cardinality(CAST(:elements AS text[])) = 0 OR h.element = ANY (CAST(:elements AS text[]))) OFFSET 0) AS h
        UNION ALL
        SELECT m.element, m.events, m.durations, m.duration_sum
        FROM unnest(CAST(:span_starts AS timestamptz[]), CAST(:span_ends AS timestamptz[])) AS k (low, high)
        CROSS JOIN LATERAL (
            SELECT m.element, m.events, m.durations, m.duration_sum FROM rollup_minute_elements m
            WHERE m.project_id = :project_id AND m.minute >= k.low AND m.minute < k.high
              AND (cardinality(CAST(:elements AS text[])) = 0 OR m.element = ANY (CAST(:elements AS text[]))) OFFSET 0) AS m
    ) AS c
    GROUP BY element
    ORDER BY sum(events) DESC, element COLLATE "C"
    LIMIT :limit
),
reaches_newest AS (
    SELECT coalesce(max(minute) + interval '1 minute' <= CAST(:end AS timestamptz), false) AS yes
    FROM rollup_minutes
    WHERE project_id = :project_id
),
first_day_ids AS (
    SELECT m.element, m.user_id
    FROM rollup_minute_users m
    WHERE m.project_id = :project_id
      AND m.minute >= CAST(:start AS timestamptz) AND m.minute < CAST(:first_day_end AS timestamptz)
      AND m.element IN (SELECT element FROM counts)
      AND (SELECT yes FROM reaches_newest)
    INTERSECT
    SELECT f.element, f.user_id
    FROM rollup_element_users f
    WHERE f.project_id = :project_id AND f.element IN (SELECT element FROM counts)
      AND f.last_day = CAST(:first_day AS date)
      AND (SELECT yes FROM reaches_newest)
),
linked_ids AS (
    SELECT f.element, p.person_id
    FROM identity_people p
    JOIN rollup_element_users f ON f.project_id = p.project_id AND f.user_id = p.user_id
    WHERE p.project_id = :project_id AND f.element IN (SELECT element FROM counts)
      AND f.last_day > CAST(:first_day AS date)
      AND (SELECT yes FROM reaches_newest)
    UNION ALL
    SELECT d.element, p.person_id
    FROM first_day_ids d
    JOIN identity_people p ON p.project_id = :project_id AND p.user_id = d.user_id
),
people AS (
    SELECT c.element,
           (SELECT count(*) FROM rollup_element_users f
            WHERE f.project_id = :project_id AND f.element = c.element AND f.last_day > CAST(:first_day AS date))
         + (SELECT count(*) FROM first_day_ids d WHERE d.element = c.element)
         - (SELECT count(*) - count(DISTINCT l.person_id) FROM linked_ids l WHERE l.element = c.element) AS users
    FROM counts c
    WHERE (SELECT yes FROM reaches_newest)
    UNION ALL
    SELECT element, count(*)
    FROM (SELECT m.element, coalesce(l.person_id, m.user_id)
          FROM counts c
          JOIN rollup_minute_users m ON m.project_id = :project_id AND m.element = c.element
           AND m.minute >= CAST(:start AS timestamptz) AND m.minute < CAST(:end AS timestamptz)
          LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
          WHERE NOT (SELECT yes FROM reaches_newest)
          GROUP BY 1, 2) AS present
    GROUP BY element
)
SELECT c.element, c.events, coalesce(p.users, 0), c.durations, c.duration_sum
FROM counts c
LEFT JOIN people p ON p.element = c.element
ORDER BY c.events DESC, c.element COLLATE "C"
