-- The events an analytics query reads (engine.db.analytics_filters puts this subquery where a
-- query says /* filtered events */): one project, the range [:start, :end), every filter, and
-- each event's person (its user_id resolved through identity_links) as `person`.
(SELECT e.*, coalesce(l.person_id, e.user_id) AS person
 FROM events e
 LEFT JOIN identity_links l ON l.project_id = e.project_id AND l.alias_id = e.user_id
 WHERE e.project_id = :project_id
   AND e."timestamp" >= CAST(:start AS timestamptz)
   AND e."timestamp" < CAST(:end AS timestamptz)
   AND /* event filters */)
