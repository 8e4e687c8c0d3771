-- Rows older than a project's counted_from are the backfill's to count, not this batch's.
DELETE FROM rollup_batch b
USING rollup_backfill s
WHERE s.project_id = b.project_id AND b."timestamp" < s.counted_from
