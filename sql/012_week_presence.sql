-- 012: presence per UTC week: one row per (user id, week), the week named by its Monday (UTC).
--
-- Retention by week over 84 days read each week's seven days from rollup_day_users: at 10 M
-- events about 3 M day rows, one per id and day, to learn who was present in each week. A week
-- row says the id has an event in that UTC week [Monday 00:00 UTC, next Monday), so a bucket
-- span that holds whole UTC weeks with no action filter (the rows carry no action) reads one row
-- per id and week instead (engine.core.day_pieces); what is left of the span reads the day rows
-- as before. Rows are only inserted, never updated, so the pages are left full.
--
-- The drain keeps it in the same transaction as the other rollups (rollup_apply_2_week_users:
-- INSERT ... ON CONFLICT DO NOTHING, keys sorted, in the statement order of 009's header).
-- Per-minute retention (ANALYTICS_ROLLUP_RETENTION_DAYS) deletes the weeks wholly before its cutoff.

CREATE TABLE rollup_week_users (
    project_id integer NOT NULL,
    week date NOT NULL,          -- the Monday (UTC) that begins the week of the events
    user_id varchar(255) NOT NULL,
    PRIMARY KEY (project_id, week, user_id)
);

-- The events counted into rollup_day_users so far are counted here now, from its rows, under
-- the rollup lock held exclusively (sql/009_rollups.sql): a drain holds it shared from before it
-- counts until it commits, so none is between; the rows an unfinished backfill has not reached
-- yet will be counted by it, into this table too. Days that per-minute retention already
-- deleted are not here either: their weeks wholly before its cutoff go at its next run.
SELECT pg_advisory_xact_lock(7301004);  -- LOCK_ROLLUP_BACKFILL (engine.core.constants)

INSERT INTO rollup_week_users (project_id, week, user_id)
SELECT DISTINCT project_id, CAST(date_trunc('week', CAST(day AS timestamp)) AS date), user_id
FROM rollup_day_users;

GRANT SELECT ON rollup_week_users TO analytics_reader;
