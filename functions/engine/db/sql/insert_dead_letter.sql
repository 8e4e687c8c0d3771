INSERT INTO dead_letters (stream_id, payload, error, deliveries)
VALUES (:stream_id, :payload, :error, :deliveries)
ON CONFLICT (stream_id) DO NOTHING
