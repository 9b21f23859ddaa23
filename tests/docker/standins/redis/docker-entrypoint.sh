#!/bin/sh
# The official redis image's entrypoint contract: flags or a .conf file go to redis-server; as root it hands
# /data to the redis user and re-runs itself as that user.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  # The official image builds redis with protected mode off (it would refuse every other container);
  # Debian's binary keeps it on, so it is switched off here, before any option the command gives.
  shift
  if [ "${1%.conf}" != "${1:-}" ]; then
    conf=$1
    shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi
umask 0077
exec "$@"
