-- A lock held until the transaction ends (partition DDL serializes on it).
SELECT pg_advisory_xact_lock(:key)
