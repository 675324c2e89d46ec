#!/bin/sh
# The upstream redis image's start-up contract:
#   - options alone (`--appendonly yes --requirepass PW`) or a config file run redis-server with them
#   - started as root, it hands /data to the redis user and drops to it
#   - without a config file, protected mode is off (the upstream image builds Redis with it off): it
#     would refuse every client from outside the container when no password is set
set -eu

case "${1:-}" in
  -* | *.conf) set -- redis-server "$@" ;;
esac

if [ "${1:-}" = redis-server ] || [ "${1:-}" = "$(command -v redis-server)" ]; then
  if [ "$(id -u)" = 0 ]; then
    chown redis:redis /data 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  case "${2:-}" in
    *.conf) ;;
    *) case " $* " in
         *" --protected-mode "*) ;;
         *) set -- "$@" --protected-mode no ;;
       esac ;;
  esac
  # Redis refuses to start when it cannot write its append-only directory: say where.
  [ -w . ] || echo "warning: $(pwd) is not writable by uid $(id -u); mount a volume owned by it (fsGroup 999)" >&2
fi

exec "$@"
