-- The drain's per-connection staging table: events' columns (LIKE keeps them in step with
-- the schema) plus the stream entry id. COPY lands here; load_staged.sql moves it.
CREATE TEMP TABLE IF NOT EXISTS drain_staging (
    stream_id text NOT NULL,
    LIKE events
) ON COMMIT DELETE ROWS
