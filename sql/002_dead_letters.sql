-- 002: the dead-letter table.
--
-- A stream entry that failed to load max_deliveries times (or that cannot be decoded at
-- all) lands here with the reason, so that it never blocks the entries behind it and is
-- never silently dropped. The payload is kept as bytes, exactly as it sat in the stream,
-- because the thing that broke it may be its encoding.
-- stream_id is unique so that dead-lettering is idempotent: a drain that crashes after
-- writing the row but before acknowledging the entry writes nothing twice.

CREATE TABLE dead_letters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id text NOT NULL UNIQUE,
    payload bytea NOT NULL,
    error text NOT NULL,
    deliveries integer NOT NULL,
    dead_at timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
