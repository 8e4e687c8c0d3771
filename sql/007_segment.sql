-- 007: what Segment's tracking API brings: event names up to 255 characters, the message's
-- context and envelope, users and groups with traits, and links between identities.
--
-- identity_links maps an id (an anonymousId, or a previousId given to alias) to the person
-- it belongs to; events keep the id they were sent with, and everything that counts users
-- reads them through events_people, which resolves each id to its person, so that one
-- person who browsed anonymously and then logged in counts once. Links are written by the
-- drain (identify or any call carrying both anonymousId and userId, and alias); the first
-- link of an id wins, and a chain a -> b -> c is kept flat (a -> c).
--
-- The views are dropped and made again because the column they read changes type
-- (varchar(50) -> varchar(255) needs no table rewrite, but views pin column types); they
-- now group by person. A refresh after this migration fills them.

DROP MATERIALIZED VIEW user_engagement;
DROP MATERIALIZED VIEW activity_heatmap;
DROP MATERIALIZED VIEW element_rankings;

ALTER TABLE events ALTER COLUMN action TYPE varchar(255);
ALTER TABLE events ADD COLUMN anonymous_id varchar(255);
ALTER TABLE events ADD COLUMN context jsonb;   -- Segment's context (library, page, device, ...)
ALTER TABLE events ADD COLUMN envelope jsonb;  -- the message's own fields: type, ids, timestamps as sent

CREATE TABLE identity_links (
    project_id integer NOT NULL,
    alias_id varchar(255) NOT NULL,
    person_id varchar(255) NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, alias_id)
);

CREATE INDEX identity_links_person ON identity_links (project_id, person_id);

CREATE TABLE users (
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    traits jsonb NOT NULL DEFAULT '{}',
    traits_at timestamptz NOT NULL,        -- the time of the newest identify merged in
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE groups (
    project_id integer NOT NULL,
    group_id varchar(255) NOT NULL,
    traits jsonb NOT NULL DEFAULT '{}',
    traits_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, group_id)
);

CREATE TABLE group_members (
    project_id integer NOT NULL,
    group_id varchar(255) NOT NULL,
    user_id varchar(255) NOT NULL,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, group_id, user_id)
);

CREATE VIEW events_people AS
SELECT e.*, coalesce(l.person_id, e.user_id) AS person_id
FROM events e
LEFT JOIN identity_links l ON l.project_id = e.project_id AND l.alias_id = e.user_id;

-- user_id in the views is the person: a user_id, or an id no one has linked yet.
CREATE MATERIALIZED VIEW user_engagement AS
SELECT project_id,
       person_id                  AS user_id,
       count(*)                   AS events,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT element)    AS elements,
       coalesce(sum(duration), 0) AS total_duration,
       avg(duration)              AS avg_duration,
       min("timestamp")           AS first_seen,
       max("timestamp")           AS last_seen
FROM events_people
GROUP BY project_id, person_id;

CREATE UNIQUE INDEX user_engagement_key ON user_engagement (project_id, user_id);

CREATE MATERIALIZED VIEW activity_heatmap AS
SELECT project_id,
       extract(isodow FROM "timestamp" AT TIME ZONE 'UTC')::integer AS weekday,
       extract(hour FROM "timestamp" AT TIME ZONE 'UTC')::integer   AS hour,
       count(*)                  AS events,
       count(DISTINCT person_id) AS users,
       avg(duration)             AS avg_duration
FROM events_people
GROUP BY 1, 2, 3;

CREATE UNIQUE INDEX activity_heatmap_key ON activity_heatmap (project_id, weekday, hour);

CREATE MATERIALIZED VIEW element_rankings AS
SELECT project_id,
       element,
       count(*)                  AS events,
       count(DISTINCT person_id) AS users,
       avg(duration)             AS avg_duration,
       rank() OVER (PARTITION BY project_id ORDER BY count(*) DESC) AS rank
FROM events_people
WHERE element IS NOT NULL
GROUP BY project_id, element;

CREATE UNIQUE INDEX element_rankings_key ON element_rankings (project_id, element);

-- New tables are readable by the dashboards' role (004 set default privileges for tables;
-- the views are made again here, by the same owner, so they inherit them too).
GRANT SELECT ON events_people, user_engagement, activity_heatmap, element_rankings TO analytics_reader;
