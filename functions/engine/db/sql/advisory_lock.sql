-- A session lock, waited for (migrations serialize on it).
SELECT pg_advisory_lock(:key)
