-- How far a streaming replica's numbers are behind its primary (ANALYTICS_DATABASE_READ_URL):
-- WAL received but not replayed (bytes), the commit time of the last transaction replayed,
-- whether replay is paused, and the last drain run whose rows the replica holds (a drain records
-- its run only after the rows it loaded are committed, so its record replays after them).
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 END,
       CASE WHEN pg_is_in_recovery() THEN pg_last_xact_replay_timestamp() END,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
       (SELECT max(finished_at) FROM task_runs WHERE task = 'stream-drain'),
       now()
