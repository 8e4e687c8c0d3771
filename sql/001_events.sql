-- 001: projects, the partitioned events table, and the event-id ledger.
--
-- Why events is partitioned by day on "timestamp": the metrics read the last minutes and
-- the views read whole days, so both prune to a few partitions; retention drops a day as
-- one cheap DROP TABLE instead of a DELETE that bloats the table.
--
-- Why there is a separate event_ids table: a unique index on a partitioned table must
-- contain the partition key, so UNIQUE (event_id, "timestamp") would be the most events
-- could enforce. That is not enough: the stored time is corrected for clock skew at
-- ingest, so a resend of the same event_id can carry a different "timestamp" and would
-- slip past. event_ids holds one row per id ever stored (within retention) with a plain
-- primary key; the drain inserts the ids first with ON CONFLICT DO NOTHING and inserts
-- only the events whose id was new, in the same transaction.
--
-- The seed's SERIAL id is not kept: event_id is the row's identity (CONTRACT.md), and a
-- sequence shared by all partitions would serialize every insert for nothing.
-- project_id has no foreign key: the functions only ever write known projects, and a
-- per-row foreign-key check would cost the drain on its hottest path.

CREATE TABLE projects (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO projects (id, name) VALUES (1, 'default');

CREATE TABLE events (
    event_id uuid NOT NULL,
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    action varchar(50) NOT NULL,
    element varchar(100),
    duration double precision,
    "timestamp" timestamptz NOT NULL,      -- when it happened, on the server's clock
    client_timestamp timestamptz,          -- the timestamp the client sent, as sent
    sent_at timestamptz,                   -- when the client says it sent the request
    received_at timestamptz NOT NULL,      -- when ingest accepted it
    session_id varchar(255),
    properties jsonb
) PARTITION BY RANGE ("timestamp");

-- Daily partitions (events_pYYYYMMDD) are created ahead by view-refresh and on demand by
-- the drain; the default partition only ever catches rows outside them, so no insert fails.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Serves every metric of GET /metrics: one project, a recent time range.
CREATE INDEX events_project_time ON events (project_id, "timestamp");

CREATE TABLE event_ids (
    event_id uuid PRIMARY KEY,
    received_at timestamptz NOT NULL
);

-- Retention deletes ids by age; ids arrive in time order, so a BRIN index is enough and
-- costs the insert path almost nothing.
CREATE INDEX event_ids_received_at ON event_ids USING brin (received_at);
