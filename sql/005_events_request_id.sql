-- 005: keep the id of the HTTP request that brought each event.
--
-- Every JSON log line of ingest and drain carries the request id; with it on the row, an
-- event can be followed from the request that sent it to the row it became (or, when the
-- row is missing, to its stream entry or dead letter). Adding a nullable column is a
-- catalog-only change, even on a large partitioned table.

ALTER TABLE events ADD COLUMN request_id text;
