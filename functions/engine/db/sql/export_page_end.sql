-- GET /export/events: the keyset (timestamp, event_id) of the last row of the next page, or no
-- row when at most :page_rows rows remain (that page then runs to the end of the range).
SELECT e."timestamp", e.event_id
FROM events e
WHERE /* export range */
ORDER BY e."timestamp", e.event_id
OFFSET CAST(:page_rows AS integer) - 1 LIMIT 1
