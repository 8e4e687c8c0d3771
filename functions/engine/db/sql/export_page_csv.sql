-- GET /export/events as CSV: one page's rows, the columns of engine.core.exportfmt.COLUMNS;
-- run as COPY ... (FORMAT csv), which quotes them. Times in ISO 8601 (the session is in UTC),
-- JSON columns as their JSON text; NULL is an empty field, an empty string a quoted "".
SELECT e.event_id, e.project_id, e.user_id, e.anonymous_id, e.action, e.element, e.duration,
       to_json(e."timestamp") #>> '{}', to_json(e.client_timestamp) #>> '{}', to_json(e.sent_at) #>> '{}',
       to_json(e.received_at) #>> '{}', e.session_id, e.request_id,
       CAST(e.properties AS text), CAST(e.context AS text), CAST(e.envelope AS text)
FROM events e
WHERE /* export range */
  AND (e."timestamp", e.event_id) <= (:last_time, :last_id)
ORDER BY e."timestamp", e.event_id
