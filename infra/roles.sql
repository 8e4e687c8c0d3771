-- Run by infra/migrate.sh as PostgreSQL's superuser, before the migrations: the two roles
-- the stack logs in as, with their passwords from the environment. \getenv keeps each
-- password out of every command line, and :'...' quotes it as a literal whatever it holds;
-- the server stores only its SCRAM verifier. Idempotent: it runs on every `make up`, so
-- changing a password in infra/.env and running `make up` rotates it.
\getenv owner_password ANALYTICS_DB_PASSWORD
\getenv reader_password ANALYTICS_READER_PASSWORD
SELECT current_database() AS database \gset

-- analytics owns the database and every object the migrations create (the functions
-- refresh views and add partitions, which only an owner may), and is no superuser.
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics') AS create_owner \gset
\if :create_owner
CREATE ROLE analytics LOGIN;
\endif
ALTER ROLE analytics WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER DATABASE :"database" OWNER TO analytics;

-- Migration 004 makes analytics_reader too (NOLOGIN, no password may sit in a migration);
-- it is made here first because analytics may not create roles.
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics_reader') AS create_reader \gset
\if :create_reader
CREATE ROLE analytics_reader NOLOGIN;
\endif
ALTER ROLE analytics_reader WITH LOGIN NOSUPERUSER CONNECTION LIMIT 20 PASSWORD :'reader_password';

-- Dashboards may read, never write, and never hold the database for long.
ALTER ROLE analytics_reader IN DATABASE :"database" SET default_transaction_read_only = on;
ALTER ROLE analytics_reader IN DATABASE :"database" SET statement_timeout = '30s';
