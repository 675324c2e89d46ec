#!/bin/bash
# The upstream postgres image's start-up contract, for this Debian build:
#   - `postgres [ARGS]` (or just `-c setting=value ...`) runs the server; any other command runs as is
#   - an empty PGDATA is initialised first: initdb with the superuser POSTGRES_USER (postgres) and
#     POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), password logins (scram-sha-256) from any
#     address, then POSTGRES_DB is created and /docker-entrypoint-initdb.d/* run in name order
#     (*.sql, *.sql.gz through psql, stopping at the first error; *.sh executed or sourced) against a
#     server that listens on its Unix socket only
#   - started as root, it hands PGDATA to the postgres user and drops to it
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u +'%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
[ "$1" = postgres ] || exec "$@"

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || true

# An initialisation that stopped half-way leaves this file: refuse, rather than run on a database
# that lacks what the init scripts create.
incomplete="$PGDATA/.initialisation-incomplete"
[ ! -e "$incomplete" ] || die "the initialisation of $PGDATA did not finish (see the first run's log); empty the volume to start over"

initialise() {
  local user="${POSTGRES_USER:-postgres}" password="${POSTGRES_PASSWORD:-}" method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password="$(<"$POSTGRES_PASSWORD_FILE")"; fi
  if [ -z "$password" ] && [ "$method" != trust ]; then
    die "PGDATA $PGDATA is empty and POSTGRES_PASSWORD is not set: set the superuser's password (or POSTGRES_HOST_AUTH_METHOD=trust, never in production)"
  fi
  [ -z "$(ls -A "$PGDATA")" ] || die "PGDATA $PGDATA is not empty but holds no database (no PG_VERSION); point PGDATA at a subdirectory of the volume"
  log "initialising $PGDATA"
  local args=(--username="$user" --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$method")
  # Word splitting of POSTGRES_INITDB_ARGS is intended: it holds several initdb flags.
  # shellcheck disable=SC2206
  args+=(${POSTGRES_INITDB_ARGS:-})
  if [ -n "$password" ]; then
    initdb "${args[@]}" --pwfile=<(printf '%s\n' "$password") -D "$PGDATA" >/dev/null
  else
    initdb "${args[@]}" -D "$PGDATA" >/dev/null
  fi
  touch "$incomplete"
  printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # A server for the init scripts only, on a private socket and no TCP listener: nothing connects,
  # and pg_isready (a readiness probe) fails, before they are done.
  local socket_dir
  socket_dir="$(mktemp -d)"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k $socket_dir -p ${PGPORT:-5432}" -w -t 60 start >/dev/null
  export PGHOST="$socket_dir"
  local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$user" --dbname postgres)
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --set db="$POSTGRES_DB" -c 'CREATE DATABASE :"db"' >/dev/null
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        log "running $f"
        # shellcheck disable=SC1090
        if [ -x "$f" ]; then "$f"; else . "$f"; fi
        ;;
      *.sql) log "running $f"; "${psql[@]}" -f "$f" >/dev/null ;;
      *.sql.gz) log "running $f"; gzip -dc "$f" | "${psql[@]}" >/dev/null ;;
      *) log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  unset PGHOST
  rmdir "$socket_dir"
  rm -f "$incomplete"
  log "initialisation complete"
}

[ -s "$PGDATA/PG_VERSION" ] || initialise
exec "$@"
