-- 004: a record of every drain and refresh run, and a read-only role for dashboards.
--
-- task_runs lets Grafana (or anyone with SQL) chart the pipeline's health, backlog, lag,
-- drain throughput, dead letters, refresh times, without a Redis plugin. The drain
-- writes one row per invocation (about one a second under the default schedule), so
-- view-refresh deletes rows older than 14 days.
--
-- analytics_reader may read every table and view of this schema and write nothing. It is
-- created NOLOGIN: whoever deploys gives it a password (ALTER ROLE ... LOGIN PASSWORD) from
-- a secret, so no password ever sits in a migration. Roles are cluster-wide, hence the
-- existence check.

CREATE TABLE task_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task text NOT NULL CHECK (task IN ('stream-drain', 'view-refresh')),
    status text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    read integer NOT NULL DEFAULT 0,
    inserted integer NOT NULL DEFAULT 0,
    duplicates integer NOT NULL DEFAULT 0,
    dead_lettered integer NOT NULL DEFAULT 0,
    reclaimed integer NOT NULL DEFAULT 0,
    backlog integer NOT NULL DEFAULT 0,
    oldest_undrained_age_seconds double precision,
    details jsonb
);

CREATE INDEX task_runs_task_finished ON task_runs (task, finished_at);

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics_reader') THEN
        CREATE ROLE analytics_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO analytics_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO analytics_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO analytics_reader;
