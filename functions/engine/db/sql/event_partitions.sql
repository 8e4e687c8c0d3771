-- Names of the daily partitions of events (events_pYYYYMMDD).
SELECT c.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE p.relname = 'events' AND n.nspname = current_schema() AND c.relname ~ '^events_p[0-9]{8}$'
