-- Dead letters not yet replayed, locked so that two replays never send one twice.
SELECT id, stream_id, payload
FROM dead_letters
WHERE replayed_at IS NULL
ORDER BY id
LIMIT :limit
FOR UPDATE SKIP LOCKED
