-- 011: presence per UTC day, with the hours it covers, and a counter of distinct ids per day.
--
-- Distinct people over a range were read from rollup_minute_users, one row per id, minute and
-- element: a 90-day series grouped millions of rows. These keep one row per (user id, UTC day)
-- whose `hours` has bit h set when the id has an event in UTC hour h (0-23), so a bucket made
-- of whole UTC hours reads the day rows whose hours meet its own, and only the minutes at its
-- edges that are not whole hours read rollup_minute_users (a +05:45 zone's midnight is 45
-- minutes into a UTC hour). rollup_days counts the rows of rollup_day_users per day: the drain
-- adds the rows its upsert inserted (xmax = 0), so a bucket that is exactly one UTC day is one
-- counter row, less the ids of linked people present that day (identity_people, as in 009).
--
-- The drain keeps them in the same transaction as the other rollups (rollup_apply_2_day_users:
-- one statement for both tables, rollup_day_users before rollup_days, keys sorted). An update
-- happens only when the hours gain a bit, so most batches leave a known row untouched.
-- Per-minute retention (ANALYTICS_ROLLUP_RETENTION_DAYS) deletes the days wholly before its cutoff.

CREATE TABLE rollup_day_users (
    project_id integer NOT NULL,
    day date NOT NULL,           -- the UTC date of the events
    user_id varchar(255) NOT NULL,
    hours integer NOT NULL,      -- bit h: an event in UTC hour h of the day
    PRIMARY KEY (project_id, day, user_id)
) WITH (fillfactor = 70);

CREATE TABLE rollup_days (
    project_id integer NOT NULL,
    day date NOT NULL,
    users bigint NOT NULL,       -- rows of rollup_day_users of the day: distinct user ids
    PRIMARY KEY (project_id, day)
) WITH (fillfactor = 70);

-- The events already counted into the other rollups (per project, those at or after
-- rollup_backfill.counted_from, or all when the project has no row there) are counted here now,
-- under the rollup lock held exclusively (sql/009_rollups.sql): a drain holds it shared from
-- before it counts until it commits, so none is between; the rows an unfinished backfill has
-- not reached yet will be counted by it, into these tables too.
SELECT pg_advisory_xact_lock(7301004);  -- LOCK_ROLLUP_BACKFILL (engine.core.constants)

INSERT INTO rollup_day_users (project_id, day, user_id, hours)
SELECT e.project_id, CAST(e."timestamp" AT TIME ZONE 'UTC' AS date), e.user_id,
       bit_or(1 << CAST(extract(hour FROM e."timestamp" AT TIME ZONE 'UTC') AS integer))
FROM events e
LEFT JOIN rollup_backfill b ON b.project_id = e.project_id
WHERE e."timestamp" >= coalesce(b.counted_from, '-infinity')
GROUP BY 1, 2, 3;

INSERT INTO rollup_days (project_id, day, users)
SELECT project_id, day, count(*) FROM rollup_day_users GROUP BY 1, 2;

GRANT SELECT ON rollup_day_users, rollup_days TO analytics_reader;
