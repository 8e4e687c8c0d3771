-- Release a session lock.
SELECT pg_advisory_unlock(:key)
