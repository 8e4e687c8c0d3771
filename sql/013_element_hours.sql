-- 013: counts per element and UTC day and hour, and the UTC day of each (user id, element) pair's
-- newest event, for GET /metrics/breakdown?by=element.
--
-- The breakdown summed rollup_minute_elements over its range (about 1.7 M rows for 30 days at
-- 10 M events) and grouped the minute presence of its top elements per person (about 1 M rows).
-- rollup_day_elements and rollup_hour_elements count events per element and UTC day or hour (as
-- rollup_hour_actions per action): a range's whole UTC days read the first (30 days: 30 rows per
-- element), the whole hours around them the second, only the minutes at its edges that are not
-- whole hours rollup_minute_elements.
--
-- rollup_element_users.last_day is the UTC date of the pair's newest event. For a range [a, to)
-- that ends at or after the project's newest event (a "trailing" range: the last 30 days), a
-- pair has an event in the range exactly when its newest event is at or after a: when last_day
-- is after a's UTC day, or is that day and the pair has minute presence in [a, end of that day).
-- So the people of an element are an index count of its pairs by last_day (the index below),
-- one day of minute presence, and the overcount of the few linked ids (identity_people, 009).
-- The drain raises last_day only when a batch brings a later day (ON CONFLICT ... WHERE), so a
-- pair's row is updated at most once a day; the pairs new to the batch still feed rollup_fresh.
--
-- The drain keeps them in the same transaction as the other rollups (rollup_apply_3_day_elements,
-- rollup_apply_3_hour_elements, rollup_apply_5_element_users), in the table order of 009.
-- Per-minute retention (ANALYTICS_ROLLUP_RETENTION_DAYS) deletes the days and hours wholly before
-- its cutoff.

CREATE TABLE rollup_day_elements (
    project_id integer NOT NULL,
    day date NOT NULL,           -- the UTC date of the events
    element varchar(100) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, day, element)
) WITH (fillfactor = 70);

CREATE TABLE rollup_hour_elements (
    project_id integer NOT NULL,
    hour timestamptz NOT NULL,
    element varchar(100) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, hour, element)
) WITH (fillfactor = 70);

ALTER TABLE rollup_element_users ADD COLUMN last_day date;

-- Filled from the per-minute rollups, which count exactly the events the other rollups count
-- (also those whose raw partitions retention dropped), under the rollup lock held exclusively
-- (sql/009_rollups.sql): drains wait, and rows an unfinished backfill has not reached yet will be
-- counted by it, into these too. A pair whose minute presence per-minute retention deleted has
-- only events older than every kept minute: '-infinity', before every range the minutes answer.
SELECT pg_advisory_xact_lock(7301004);  -- LOCK_ROLLUP_BACKFILL (engine.core.constants)

INSERT INTO rollup_hour_elements (project_id, hour, element, events, durations, duration_sum)
SELECT project_id, date_trunc('hour', minute, 'UTC'), element, sum(events), sum(durations), sum(duration_sum)
FROM rollup_minute_elements
GROUP BY 1, 2, 3;

INSERT INTO rollup_day_elements (project_id, day, element, events, durations, duration_sum)
SELECT project_id, CAST(hour AT TIME ZONE 'UTC' AS date), element, sum(events), sum(durations), sum(duration_sum)
FROM rollup_hour_elements
GROUP BY 1, 2, 3;

UPDATE rollup_element_users f SET last_day = n.last_day
FROM (SELECT project_id, user_id, element, CAST(max(minute) AT TIME ZONE 'UTC' AS date) AS last_day
      FROM rollup_minute_users
      WHERE element IS NOT NULL
      GROUP BY 1, 2, 3) AS n
WHERE f.project_id = n.project_id AND f.user_id = n.user_id AND f.element = n.element;

UPDATE rollup_element_users SET last_day = '-infinity' WHERE last_day IS NULL;

ALTER TABLE rollup_element_users ALTER COLUMN last_day SET NOT NULL;

CREATE INDEX rollup_element_users_last_day ON rollup_element_users (project_id, element, last_day) INCLUDE (user_id);

GRANT SELECT ON rollup_day_elements, rollup_hour_elements TO analytics_reader;
