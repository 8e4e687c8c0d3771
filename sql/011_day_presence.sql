-- 011: presence per UTC day, with the hours it covers, and counters of distinct ids per day,
-- for all events and per action; and counts per action and UTC hour.
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
-- rollup_day_action_users and rollup_day_actions are the same per action, and
-- rollup_hour_actions counts events per action and UTC hour: an action filter was carried by
-- no rollup, so it read raw events; now only the minutes at a bucket's edges that are not whole
-- hours read them.
--
-- The drain keeps them in the same transaction as the other rollups (rollup_apply_1_hour_actions,
-- rollup_apply_2_day_action_users, rollup_apply_2_day_users: one statement per presence table
-- and its counter, presence first, keys sorted). An update of a presence row happens only when
-- its hours gain a bit, so most batches leave a known row untouched.
-- Per-minute retention (ANALYTICS_ROLLUP_RETENTION_DAYS) deletes the hours and days wholly before
-- its cutoff.

CREATE TABLE rollup_hour_actions (
    project_id integer NOT NULL,
    hour timestamptz NOT NULL,
    action varchar(255) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, hour, action)
) WITH (fillfactor = 70);

CREATE TABLE rollup_day_action_users (
    project_id integer NOT NULL,
    day date NOT NULL,
    action varchar(255) NOT NULL,
    user_id varchar(255) NOT NULL,
    hours integer NOT NULL,
    PRIMARY KEY (project_id, day, action, user_id)
) WITH (fillfactor = 70);

CREATE TABLE rollup_day_actions (
    project_id integer NOT NULL,
    day date NOT NULL,
    action varchar(255) NOT NULL,
    users bigint NOT NULL,       -- rows of rollup_day_action_users of the day and action
    PRIMARY KEY (project_id, day, action)
) WITH (fillfactor = 70);

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

CREATE TEMP TABLE counted_events ON COMMIT DROP AS
SELECT e.project_id, e.action, e.user_id, e.duration, e."timestamp"
FROM events e
LEFT JOIN rollup_backfill b ON b.project_id = e.project_id
WHERE e."timestamp" >= coalesce(b.counted_from, '-infinity');

INSERT INTO rollup_hour_actions (project_id, hour, action, events, durations, duration_sum)
SELECT project_id, date_trunc('hour', "timestamp", 'UTC'), action, count(*), count(duration), coalesce(sum(duration::numeric), 0)
FROM counted_events
GROUP BY 1, 2, 3;

INSERT INTO rollup_day_action_users (project_id, day, action, user_id, hours)
SELECT project_id, CAST("timestamp" AT TIME ZONE 'UTC' AS date), action, user_id,
       bit_or(1 << CAST(extract(hour FROM "timestamp" AT TIME ZONE 'UTC') AS integer))
FROM counted_events
GROUP BY 1, 2, 3, 4;

INSERT INTO rollup_day_actions (project_id, day, action, users)
SELECT project_id, day, action, count(*) FROM rollup_day_action_users GROUP BY 1, 2, 3;

INSERT INTO rollup_day_users (project_id, day, user_id, hours)
SELECT project_id, day, user_id, bit_or(hours) FROM rollup_day_action_users GROUP BY 1, 2, 3;

INSERT INTO rollup_days (project_id, day, users)
SELECT project_id, day, count(*) FROM rollup_day_users GROUP BY 1, 2;

GRANT SELECT ON rollup_hour_actions, rollup_day_action_users, rollup_day_actions, rollup_day_users, rollup_days TO analytics_reader;
