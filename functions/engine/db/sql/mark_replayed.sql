-- Dead letters put back on the stream: replayed once, never again.
UPDATE dead_letters SET replayed_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))
