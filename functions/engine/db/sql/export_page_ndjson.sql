-- GET /export/events as NDJSON: one page's rows, each one JSON object with the keys of
-- engine.core.exportfmt.COLUMNS in that order (times in ISO 8601, UTC; JSON columns as JSON).
-- JSON text never holds a raw control character, so COPY passes each object through unquoted.
SELECT json_build_object(
           'event_id', e.event_id, 'project_id', e.project_id, 'user_id', e.user_id, 'anonymous_id', e.anonymous_id,
           'action', e.action, 'element', e.element, 'duration', e.duration, 'timestamp', e."timestamp",
           'client_timestamp', e.client_timestamp, 'sent_at', e.sent_at, 'received_at', e.received_at,
           'session_id', e.session_id, 'request_id', e.request_id, 'properties', e.properties,
           'context', e.context, 'envelope', e.envelope)
FROM events e
WHERE /* export range */
  AND (e."timestamp", e.event_id) <= (:last_time, :last_id)
ORDER BY e."timestamp", e.event_id
