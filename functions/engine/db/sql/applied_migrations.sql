-- The migrations applied so far, with the checksum each had.
SELECT version, checksum FROM schema_migrations
