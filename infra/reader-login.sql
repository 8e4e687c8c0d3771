-- Run by infra/migrate.sh after the migrations: migration 004 creates analytics_reader
-- NOLOGIN (no password may sit in a migration); this gives it a login with the password from
-- ANALYTICS_READER_PASSWORD. \getenv keeps the password out of every command line, and :'...'
-- quotes it as a literal whatever it holds. The server stores only its SCRAM verifier.
\getenv reader_password ANALYTICS_READER_PASSWORD
ALTER ROLE analytics_reader WITH LOGIN CONNECTION LIMIT 20 PASSWORD :'reader_password';

-- Dashboards may read, never write, and never hold the database for long.
SELECT current_database() AS database \gset
ALTER ROLE analytics_reader IN DATABASE :"database" SET default_transaction_read_only = on;
ALTER ROLE analytics_reader IN DATABASE :"database" SET statement_timeout = '30s';
