COPY drain_staging (stream_id, event_id, project_id, user_id, action, element, duration,
                    "timestamp", client_timestamp, sent_at, received_at, session_id, properties, request_id,
                    anonymous_id, context, envelope)
FROM STDIN
