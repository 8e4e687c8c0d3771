-- A session lock, tried and never waited for (one view refresh at a time).
SELECT pg_try_advisory_lock(:key)
