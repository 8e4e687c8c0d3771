#!/usr/bin/env bash
# make up: the stack under docker compose, on Docker Engine 20.10 or later with Compose v2.
#
# Each pinned base image (the python, postgres and redis images named in
# infra/docker-compose.yml) is used when it is here or can be pulled: with a registry,
# nothing changes. One that cannot be pulled is replaced by a local equivalent built from
# Debian packages (infra/offline/build.sh; built once, then kept), and this says so in one
# line. Grafana has no such equivalent: without its image everything else starts, one line
# says so, and make up still succeeds once the rest is healthy.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKER="${DOCKER:-docker}"
ENV_FILE="${COMPOSE_ENV:-infra/.env}"
WAIT_SECONDS="${COMPOSE_WAIT_SECONDS:-300}"
FILE=infra/docker-compose.yml
export DOCKER
# Compose v2 would build through buildx's bake where installed; Debian's docker.io has no buildx,
# and the engine's own builder is what every engine from 20.10 on has.
export COMPOSE_BAKE=false

compose() { "$DOCKER" compose -f "$FILE" --env-file "$ENV_FILE" "$@"; }

# The default of ${NAME:-default} in the compose file: the pinned image.
pinned() { sed -n "s/.*\${$1:-\([^}]*\)}.*/\1/p" "$FILE" | head -1; }

# Present, or pulled now (quietly: a registry that cannot be reached answers at once).
available() { "$DOCKER" image inspect "$1" >/dev/null 2>&1 || timeout 120 "$DOCKER" pull -q "$1" >/dev/null 2>&1; }

requirements_hash="$(sha256sum requirements.txt | cut -c1-12)"
declare -A LOCAL_EQUIVALENT=(
  [PYTHON_IMAGE]="analytics-offline/python:3.11-bookworm-$requirements_hash"
  [POSTGRES_IMAGE]="analytics-offline/postgres:15-bookworm"
  [REDIS_IMAGE]="analytics-offline/redis:7.0-bookworm"
)
unpulled=() standins=()
for variable in PYTHON_IMAGE POSTGRES_IMAGE REDIS_IMAGE; do
  image="${!variable:-$(pinned "$variable")}"
  available "$image" && continue
  unpulled+=("$image")
  standins+=("${LOCAL_EQUIVALENT[$variable]}")
  export "$variable=${LOCAL_EQUIVALENT[$variable]}"
done
if [ ${#unpulled[@]} -gt 0 ]; then
  echo "make up: cannot pull ${unpulled[*]}; using local equivalents built from Debian packages (built once, then kept)"
  infra/offline/build.sh "${standins[@]}"
fi

services=()
grafana_image="${GRAFANA_IMAGE:-$(pinned GRAFANA_IMAGE)}"
if available "$grafana_image"; then
  grafana=yes
else
  grafana=no
  echo "make up: Grafana left out: its image $grafana_image cannot be pulled and has no local equivalent; everything else starts"
  mapfile -t services < <(compose config --services | grep -vx grafana)
fi

compose up --detach --build --wait --wait-timeout "$WAIT_SECONDS" "${services[@]}" || {
  echo "error: the stack did not become healthy; see: $DOCKER compose -f $FILE ps, and ... logs SERVICE" >&2
  exit 1
}

set -a; . "$ENV_FILE"; set +a
host="${BIND_ADDRESS:-127.0.0.1}"
echo
echo "Analytics engine is up under docker compose (every service healthy)"
echo
echo "  dashboard   http://$host:${GATEWAY_PORT:-8080}/"
echo "  API         POST http://$host:${GATEWAY_PORT:-8080}/event, /events   GET /metrics   (keys: ANALYTICS_WRITE_KEY, ANALYTICS_READ_KEY in $ENV_FILE)"
if [ "$grafana" = yes ]; then
  echo "  Grafana     http://$host:${GRAFANA_PORT:-3000}/   (user ${GRAFANA_ADMIN_USER:-admin}, password GRAFANA_ADMIN_PASSWORD in $ENV_FILE)"
fi
echo "  logs        $DOCKER compose -f $FILE logs -f [SERVICE]"
echo "  stop        make down (the data stays in the volumes)"
