#!/usr/bin/env bash
# PostgreSQL server binaries: one already on PATH, else Debian's package.
source "$(dirname "$0")/lib.sh"
PART=postgres
find_pg() {
  local dir
  for dir in "$(dirname "$(command -v postgres 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}
if ! find_pg >/dev/null; then
  apt_install "postgresql-$POSTGRES_MAJOR" || apt_install postgresql
fi
bindir="$(find_pg)" || fail "PostgreSQL server binaries not found after install" "apt-get install postgresql"
# PostgreSQL refuses to run as root: the stack runs it as the 'postgres' user then.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
fi
printf '%s\n' "$bindir" >"$ECOM_CACHE/postgres.bindir"
say "PostgreSQL at $bindir"
