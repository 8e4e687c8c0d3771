-- Taken by each drain transaction before it reads rollup_backfill (see sql/009_rollups.sql):
-- a backfill chunk holds it exclusively, so the two never count the same row.
SELECT pg_advisory_xact_lock_shared(:key)
