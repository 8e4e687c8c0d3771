-- 006: API keys per project, stored hashed.
--
-- A write key may sit in a web page; a read key opens a company's behavioural data. Only
-- the SHA-256 of each key is stored (keys are 32 random bytes, so a fast hash is enough:
-- nothing to brute-force), with its first characters to tell keys apart in listings.
-- Rotation adds a new key and gives the old one an expiry, so clients can move over
-- without a gap; a key is valid while expires_at is null or in the future.
-- The default project's keys come from ANALYTICS_WRITE_KEY / ANALYTICS_READ_KEY and are
-- registered here by `make run` and `make key`; the functions also accept them directly.

CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects (id),
    kind text NOT NULL CHECK (kind IN ('write', 'read')),
    key_hash bytea NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);

CREATE INDEX api_keys_project ON api_keys (project_id, kind);

-- Projects get ids from a sequence now; 1 stays the default project.
CREATE SEQUENCE projects_id_seq OWNED BY projects.id START WITH 2;
ALTER TABLE projects ALTER COLUMN id SET DEFAULT nextval('projects_id_seq');

-- Grafana's reader may see which projects exist, never their key hashes.
REVOKE SELECT ON api_keys FROM analytics_reader;
