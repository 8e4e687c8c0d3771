-- The rows an export page may hold (alias e, raw events): one project, the range [start, end),
-- after the keyset (after_time, after_id) of the page before, and the analytics filters.
-- The plain "timestamp" >= after_time lets the (project_id, "timestamp") index start there.
e.project_id = :project_id
AND e."timestamp" >= :start AND e."timestamp" < :end
AND e."timestamp" >= :after_time
AND (e."timestamp", e.event_id) > (:after_time, :after_id)
AND /* event filters */
