#!/bin/sh
# The one-shot migrate service, the only one that logs in as PostgreSQL's superuser: first
# the roles (infra/roles.sql: the owner analytics and the read-only analytics_reader, with
# their passwords), then sql/ applied as the owner (python -m engine.migrate, the same
# runner as make migrate), so the owner owns what the migrations create. Both steps are
# idempotent: the service runs on every `make up`, and rotating a password is a restart.
set -eu

: "${POSTGRES_ADMIN_URL:?POSTGRES_ADMIN_URL must be set}"
: "${ANALYTICS_DATABASE_URL:?ANALYTICS_DATABASE_URL must be set}"
: "${ANALYTICS_DB_PASSWORD:?ANALYTICS_DB_PASSWORD must be set}"
: "${ANALYTICS_READER_PASSWORD:?ANALYTICS_READER_PASSWORD must be set}"
for name in ANALYTICS_DB_PASSWORD ANALYTICS_READER_PASSWORD; do
  if [ "$(printenv "$name" | wc -c)" -le 16 ]; then
    echo "migrate: $name must be at least 16 characters" >&2
    exit 1
  fi
done

psql "$POSTGRES_ADMIN_URL" --no-psqlrc --quiet --set ON_ERROR_STOP=1 --file "$(dirname "$0")/roles.sql"
echo "migrate: roles analytics (owner) and analytics_reader (read-only) may log in"
python -m engine.migrate
