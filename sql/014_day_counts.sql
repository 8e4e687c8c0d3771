-- 014: events, durations counted and their sum per UTC day (rollup_days) and per UTC day and
-- action (rollup_day_actions), beside the distinct ids those rows already count.
--
-- A timeseries bucket that is one whole UTC day read its counts from rollup_hour_actions, 24
-- rows a day and action (every action's without a filter), each on a page of its own since the
-- drain updates them hour by hour: at 90 days, 2,000 to 26,000 rows a request. Now such a bucket
-- reads one counter row, as its distinct people already did (sql/011_day_presence.sql). The
-- drain adds each batch's counts in the statement that keeps those rows (rollup_apply_2_day_users,
-- rollup_apply_2_day_action_users); erasure subtracts the erased events with the ids.
--
-- The counts already kept per hour become the days' counts: the same events, under the rollup
-- lock held exclusively (sql/009_rollups.sql), so no drain is between. A day that per-minute
-- retention (ANALYTICS_ROLLUP_RETENTION_DAYS) cut in the middle keeps only its retained hours'
-- counts; make verify-aggregates checks days from the first whole one.
SELECT pg_advisory_xact_lock(7301004);  -- LOCK_ROLLUP_BACKFILL (engine.core.constants)

ALTER TABLE rollup_days
    ADD COLUMN events bigint NOT NULL DEFAULT 0,
    ADD COLUMN durations bigint NOT NULL DEFAULT 0,
    ADD COLUMN duration_sum numeric NOT NULL DEFAULT 0;

ALTER TABLE rollup_day_actions
    ADD COLUMN events bigint NOT NULL DEFAULT 0,
    ADD COLUMN durations bigint NOT NULL DEFAULT 0,
    ADD COLUMN duration_sum numeric NOT NULL DEFAULT 0;

UPDATE rollup_day_actions r
SET events = h.events, durations = h.durations, duration_sum = h.duration_sum
FROM (SELECT project_id, CAST(hour AT TIME ZONE 'UTC' AS date) AS day, action,
             sum(events) AS events, sum(durations) AS durations, sum(duration_sum) AS duration_sum
      FROM rollup_hour_actions
      GROUP BY 1, 2, 3) AS h
WHERE r.project_id = h.project_id AND r.day = h.day AND r.action = h.action;

UPDATE rollup_days r
SET events = a.events, durations = a.durations, duration_sum = a.duration_sum
FROM (SELECT project_id, day, sum(events) AS events, sum(durations) AS durations, sum(duration_sum) AS duration_sum
      FROM rollup_day_actions
      GROUP BY 1, 2) AS a
WHERE r.project_id = a.project_id AND r.day = a.day;
