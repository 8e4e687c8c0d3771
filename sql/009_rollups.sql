-- 009: rollup tables kept by the drain, so that no read scans raw events.
--
-- The drain inserts a batch of events and, in the same transaction, adds exactly the rows it
-- inserted (an id already stored inserts nothing, so it adds nothing) to the tables below with
-- INSERT ... ON CONFLICT DO UPDATE on per-batch deltas: one statement per table, always in the
-- same table order, each touching a rollup row once, keys sorted, so that concurrent drains
-- take their row locks in one global order and cannot deadlock. A crash before COMMIT leaves
-- neither the rows nor their counts.
--
-- Tables whose rows are updated by every batch leave room in each page (fillfactor 70), so
-- that an update can stay on its page without a new index entry (a HOT update).
--
-- Counts are sums of per-batch counts, so they are exact. Durations are summed as numeric:
-- a float sum would depend on how the events were split into batches. Distinct people cannot
-- be summed, so they are kept as presence (one row per thing seen): whether an id was new is
-- known from ON CONFLICT DO NOTHING ... RETURNING, which is what the users/sessions/elements
-- counters add. Presence rows hold the id an event was sent with; identity links are resolved
-- to persons when read (identity_people below), so a link that arrives after the events moves
-- them to their person at once, as events_people did for the raw rows.
--
-- Per minute of event time (they answer any window of whole minutes; late events land in
-- the minute they happened in):
--   rollup_minutes          events, durations counted, their sum
--   rollup_minute_users     presence of (user id, element) per minute: distinct people over any
--                           window, and distinct people per element; the NULL element is a value
--   rollup_minute_elements  events and durations per element
-- All time (kept when retention drops raw partitions; see rollup_status):
--   rollup_totals           per project: events, durations, sum, distinct user ids
--   rollup_users            per user id: events, durations, sum, first and last seen, distinct
--                           sessions and elements
--   rollup_elements         per element: events, durations, sum, distinct user ids
--   rollup_heatmap          per ISO weekday x UTC hour: events, durations, sum
--   rollup_user_sessions    presence of (user id, session): sessions of people with several ids
--   rollup_element_users    presence of (user id, element): users of an element across links

CREATE TABLE rollup_minutes (
    project_id integer NOT NULL,
    minute timestamptz NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, minute)
) WITH (fillfactor = 70);

CREATE TABLE rollup_minute_users (
    project_id integer NOT NULL,
    minute timestamptz NOT NULL,
    user_id varchar(255) NOT NULL,
    element varchar(100),
    CONSTRAINT rollup_minute_users_key UNIQUE NULLS NOT DISTINCT (project_id, minute, user_id, element)
);

CREATE TABLE rollup_minute_elements (
    project_id integer NOT NULL,
    minute timestamptz NOT NULL,
    element varchar(100) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, minute, element)
) WITH (fillfactor = 70);

CREATE TABLE rollup_totals (
    project_id integer PRIMARY KEY,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    users bigint NOT NULL
) WITH (fillfactor = 70);

CREATE TABLE rollup_users (
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    sessions bigint NOT NULL,
    elements bigint NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITH (fillfactor = 70);

CREATE TABLE rollup_elements (
    project_id integer NOT NULL,
    element varchar(100) NOT NULL,
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    users bigint NOT NULL,
    PRIMARY KEY (project_id, element)
) WITH (fillfactor = 70);

CREATE TABLE rollup_heatmap (
    project_id integer NOT NULL,
    weekday smallint NOT NULL,   -- ISO: 1 = Monday ... 7 = Sunday
    hour smallint NOT NULL,      -- UTC, 0-23
    events bigint NOT NULL,
    durations bigint NOT NULL,
    duration_sum numeric NOT NULL,
    PRIMARY KEY (project_id, weekday, hour)
) WITH (fillfactor = 70);

CREATE TABLE rollup_user_sessions (
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    session_id varchar(255) NOT NULL,
    PRIMARY KEY (project_id, user_id, session_id)
);

CREATE TABLE rollup_element_users (
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    element varchar(100) NOT NULL,
    PRIMARY KEY (project_id, user_id, element)
);

-- Backfill of a database that held events before this migration. Per project, every event
-- with "timestamp" >= counted_from is in the rollups (or will be when the transaction that
-- inserted it commits); the backfill walks counted_from down to -infinity in chunks. A drain
-- holds pg_advisory_xact_lock_shared(LOCK_ROLLUP_BACKFILL) while it reads counted_from and
-- adds its rows (only those at or after it); a backfill chunk holds the same lock exclusively
-- while it counts the rows of [new counted_from, old counted_from) and lowers counted_from.
-- So each row is counted by exactly one of them. A project missing here has nothing to backfill.
CREATE TABLE rollup_backfill (
    project_id integer PRIMARY KEY,
    counted_from timestamptz NOT NULL
);

INSERT INTO rollup_backfill (project_id, counted_from)
SELECT id, 'infinity' FROM projects p
WHERE EXISTS (SELECT 1 FROM events e WHERE e.project_id = p.id);

-- One row: raw events before raw_kept_from were dropped by retention, so the all-time tables
-- can no longer be recomputed from raw events (make verify-aggregates checks the minute
-- tables from there on, and says so).
CREATE TABLE rollup_status (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    raw_kept_from timestamptz
);

INSERT INTO rollup_status (id) VALUES (true);

-- Every id of a person who has links (the aliases and the person's own id), with the person.
-- Counters of distinct user ids count such a person once per id present; readers subtract
-- (ids present - persons present) over these few rows instead of reading every id.
CREATE VIEW identity_people AS
SELECT project_id, alias_id AS user_id, person_id FROM identity_links
UNION
SELECT project_id, person_id, person_id FROM identity_links;

-- The seed's views become plain views over the rollups. A materialized view would answer a
-- refresh old; these answer what the drain last committed, and read a row per user, element
-- or cell. The columns that need distinct people (activity_heatmap.users, the users of
-- element_rankings and the sessions and elements of people with several ids) come from
-- presence rows; where a query does not select them, PostgreSQL removes their join. Sums and
-- means are double precision, as in the views they replace.
DROP MATERIALIZED VIEW project_totals;
DROP MATERIALIZED VIEW user_engagement;
DROP MATERIALIZED VIEW activity_heatmap;
DROP MATERIALIZED VIEW element_rankings;

-- user_id is the person: a user_id, or an id no one has linked yet.
CREATE VIEW user_engagement AS
SELECT u.project_id,
       coalesce(l.person_id, u.user_id)::varchar(255) AS user_id,
       sum(u.events)::bigint                          AS events,
       CASE WHEN count(*) = 1 THEN max(u.sessions) ELSE
           (SELECT count(DISTINCT s.session_id) FROM rollup_user_sessions s
            WHERE s.project_id = u.project_id AND s.user_id = ANY (array_agg(u.user_id)))
       END::bigint                                    AS sessions,
       CASE WHEN count(*) = 1 THEN max(u.elements) ELSE
           (SELECT count(DISTINCT f.element) FROM rollup_element_users f
            WHERE f.project_id = u.project_id AND f.user_id = ANY (array_agg(u.user_id)))
       END::bigint                                    AS elements,
       sum(u.duration_sum)::double precision          AS total_duration,
       sum(u.duration_sum)::double precision / nullif(sum(u.durations), 0) AS avg_duration,
       min(u.first_seen)                              AS first_seen,
       max(u.last_seen)                               AS last_seen
FROM rollup_users u
LEFT JOIN identity_links l ON l.project_id = u.project_id AND l.alias_id = u.user_id
GROUP BY u.project_id, coalesce(l.person_id, u.user_id);

CREATE VIEW project_totals AS
SELECT t.project_id,
       t.events,
       t.users - coalesce(o.overcount, 0) AS users
FROM rollup_totals t
LEFT JOIN (
    SELECT p.project_id, count(*) - count(DISTINCT p.person_id) AS overcount
    FROM identity_people p
    JOIN rollup_users u ON u.project_id = p.project_id AND u.user_id = p.user_id
    GROUP BY p.project_id
) o ON o.project_id = t.project_id;

CREATE VIEW activity_heatmap AS
SELECT h.project_id,
       h.weekday::integer                          AS weekday,
       h.hour::integer                             AS hour,
       h.events,
       coalesce(p.users, 0)                        AS users,
       h.duration_sum::double precision / nullif(h.durations, 0) AS avg_duration
FROM rollup_heatmap h
LEFT JOIN (
    SELECT m.project_id,
           extract(isodow FROM m.minute AT TIME ZONE 'UTC')::integer AS weekday,
           extract(hour FROM m.minute AT TIME ZONE 'UTC')::integer   AS hour,
           count(DISTINCT coalesce(l.person_id, m.user_id))           AS users
    FROM rollup_minute_users m
    LEFT JOIN identity_links l ON l.project_id = m.project_id AND l.alias_id = m.user_id
    GROUP BY 1, 2, 3
) p ON p.project_id = h.project_id AND p.weekday = h.weekday AND p.hour = h.hour;

CREATE VIEW element_rankings AS
SELECT e.project_id,
       e.element,
       e.events,
       e.users - coalesce(o.overcount, 0)      AS users,
       e.duration_sum::double precision / nullif(e.durations, 0) AS avg_duration,
       rank() OVER (PARTITION BY e.project_id ORDER BY e.events DESC) AS rank
FROM rollup_elements e
LEFT JOIN (
    SELECT f.project_id, f.element, count(*) - count(DISTINCT p.person_id) AS overcount
    FROM identity_people p
    JOIN rollup_element_users f ON f.project_id = p.project_id AND f.user_id = p.user_id
    GROUP BY f.project_id, f.element
) o ON o.project_id = e.project_id AND o.element = e.element;

GRANT SELECT ON rollup_minutes, rollup_minute_users, rollup_minute_elements, rollup_totals, rollup_users,
    rollup_elements, rollup_heatmap, rollup_user_sessions, rollup_element_users, rollup_backfill, rollup_status,
    identity_people, user_engagement, project_totals, activity_heatmap, element_rankings TO analytics_reader;
