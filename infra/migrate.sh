#!/bin/sh
# The one-shot migrate service: apply sql/ (python -m engine.migrate, the same runner as
# make migrate), then give the read-only role analytics_reader its login, so Grafana reads
# the database as a role that can write nothing. Both steps are idempotent: the service
# runs on every `make up`, and rotating ANALYTICS_READER_PASSWORD is a restart.
set -eu

: "${ANALYTICS_DATABASE_URL:?ANALYTICS_DATABASE_URL must be set}"
: "${ANALYTICS_READER_PASSWORD:?ANALYTICS_READER_PASSWORD must be set}"
if [ "${#ANALYTICS_READER_PASSWORD}" -lt 16 ]; then
  echo "migrate: ANALYTICS_READER_PASSWORD must be at least 16 characters" >&2
  exit 1
fi

python -m engine.migrate
psql "$ANALYTICS_DATABASE_URL" --no-psqlrc --quiet --set ON_ERROR_STOP=1 --file "$(dirname "$0")/reader-login.sql"
echo "migrate: analytics_reader may log in"
