-- The rows a transaction inserted into events, as the rollups need them (rollup_apply_*.sql
-- read it). The drain fills it from its insert's RETURNING, so it holds exactly those rows.
CREATE TEMP TABLE IF NOT EXISTS rollup_batch (
    project_id integer NOT NULL,
    user_id varchar(255) NOT NULL,
    action varchar(255) NOT NULL,
    element varchar(100),
    duration double precision,
    "timestamp" timestamptz NOT NULL,
    session_id varchar(255)
) ON COMMIT DELETE ROWS
