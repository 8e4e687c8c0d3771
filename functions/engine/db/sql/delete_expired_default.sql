DELETE FROM events_default WHERE "timestamp" < :cutoff
