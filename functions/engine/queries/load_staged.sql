-- Idempotent load: an id already in event_ids (a resend, or a batch replayed after a crash
-- between commit and acknowledge) inserts nothing. Within one batch the first entry of an
-- id wins, so the same id twice in the stream still makes one row.
WITH fresh AS (
    INSERT INTO event_ids (event_id, received_at)
    SELECT DISTINCT ON (event_id) event_id, received_at
    FROM drain_staging
    ORDER BY event_id, stream_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
)
INSERT INTO events (event_id, project_id, user_id, action, element, duration, "timestamp",
                    client_timestamp, sent_at, received_at, session_id, properties, request_id,
                    anonymous_id, context, envelope)
SELECT DISTINCT ON (s.event_id)
       s.event_id, s.project_id, s.user_id, s.action, s.element, s.duration, s."timestamp",
       s.client_timestamp, s.sent_at, s.received_at, s.session_id, s.properties, s.request_id,
       s.anonymous_id, s.context, s.envelope
FROM drain_staging s
JOIN fresh USING (event_id)
ORDER BY s.event_id, s.stream_id
