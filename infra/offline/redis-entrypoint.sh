#!/bin/sh
# The local equivalent of the official redis image's entrypoint (infra/offline/build.sh):
# redis-server runs as the redis user, owning /data, its working directory.
set -eu
if [ "${1:-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
exec "$@"
