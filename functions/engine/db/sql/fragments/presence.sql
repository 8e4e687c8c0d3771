-- Who was present when (at, person), for the distinct-people questions (/* presence */): from
-- the rollups' presence rows (one per id, minute and element) when :raw is false, which holds
-- when the filters are none or only element; from the filtered raw events when it is true. Only
-- one branch runs: the other's condition is a constant of the execution.
(SELECT m.minute AS at, coalesce(l.person_id, m.user_id) AS person
 FROM rollup_minute_users m
 LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
 WHERE NOT CAST(:raw AS boolean)
   AND m.project_id = :project_id
   AND m.minute >= CAST(:start AS timestamptz)
   AND m.minute < CAST(:end AS timestamptz)
   AND (cardinality(CAST(:elements AS text[])) = 0 OR m.element = ANY (CAST(:elements AS text[])))
 UNION ALL
 SELECT e."timestamp", e.person
 FROM /* filtered events */ AS e
 WHERE CAST(:raw AS boolean))
