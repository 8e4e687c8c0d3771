-- Presence rows hold the id an event was sent with, so the erased ids' rows are theirs alone.
-- Looked for in the minutes of their counted events, and before raw_kept_from (where the raw
-- events are gone but per-minute rows may remain): the key's prefix serves both.
DELETE FROM rollup_minute_users
WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
  AND (minute IN (SELECT DISTINCT date_trunc('minute', "timestamp") FROM rollup_batch)
       OR minute < coalesce((SELECT raw_kept_from FROM rollup_status), '-infinity'))
