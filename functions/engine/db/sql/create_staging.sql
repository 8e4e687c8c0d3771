-- The drain's per-connection staging table: each stream entry's JSON as it sat in the stream.
-- COPY lands here; load_staged.sql takes the columns out of it, in PostgreSQL, in C.
CREATE TEMP TABLE IF NOT EXISTS drain_raw (
    stream_id text NOT NULL,
    entry jsonb NOT NULL
) ON COMMIT DELETE ROWS
