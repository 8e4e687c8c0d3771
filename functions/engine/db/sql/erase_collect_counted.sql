-- The erased events the rollups count (those at or after the project's counted_from: the older
-- ones wait for the backfill, which will not find them), into rollup_batch, as the drain's would be.
-- Run under the exclusive rollup lock, so no drain or backfill moves counted_from meanwhile.
INSERT INTO rollup_batch (project_id, user_id, action, element, duration, "timestamp", session_id)
SELECT project_id, user_id, action, element, duration, "timestamp", session_id
FROM events
WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
  AND "timestamp" >= coalesce((SELECT counted_from FROM rollup_backfill WHERE project_id = :project_id), '-infinity')
