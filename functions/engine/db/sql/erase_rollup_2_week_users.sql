-- The erased ids' week presence rows go (they hold those ids alone), looked for in the UTC weeks
-- of their counted events and up to the week of raw_kept_from (where raw events are gone but week
-- rows may remain), as erase_rollup_2_day_users does per day.
DELETE FROM rollup_week_users
WHERE project_id = :project_id AND user_id = ANY (CAST(:ids AS varchar[]))
  AND (week IN (SELECT DISTINCT CAST(date_trunc('week', "timestamp" AT TIME ZONE 'UTC') AS date) FROM rollup_batch)
       OR week <= coalesce(CAST(date_trunc('week', (SELECT raw_kept_from FROM rollup_status) AT TIME ZONE 'UTC') AS date), '-infinity'))
