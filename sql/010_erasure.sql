-- 010: erasing a person on request (DELETE /people/{user_id}, make erase-person).
--
-- Admin keys: a third kind of API key, the only one that may erase. It is not the read key:
-- a read key sits in dashboards and scripts; erasing is rarer and destroys data.
--
-- events_project_user: an erasure finds a person's events by user id. Without it each
-- erasure reads every event of the project (10 M rows for a 10 M-event project); with it,
-- only theirs. It costs the drain one more index entry per inserted row.
--
-- erasures: the record of every erasure, kept when everything it erased is gone. It holds no
-- erased identifier in clear: subject_hashes are HMAC-SHA-256 of "project_id NUL id" under
-- the record's own random salt (engine/core/erasure.py says why a salt per record).
-- counts is how many rows of each kind were erased ({"events": n, "users": n, ...}).

ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind_check CHECK (kind IN ('write', 'read', 'admin'));

CREATE INDEX events_project_user ON events (project_id, user_id);

CREATE TABLE erasures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id integer NOT NULL,
    requested_by text NOT NULL,            -- "key:<api_keys.id>" or "cli:<os user>"
    requested_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    salt bytea NOT NULL,
    subject_hash bytea NOT NULL,           -- the id asked for
    subject_hashes bytea[] NOT NULL,       -- every id erased with it (the person and their linked ids)
    counts jsonb NOT NULL
);

CREATE INDEX erasures_project ON erasures (project_id, requested_at);

-- The dashboards' reader has no use for the record, and with a salt beside each hash whoever
-- reads it can test a guessed id: only the owner reads it, as with api_keys.
REVOKE SELECT ON erasures FROM analytics_reader;
