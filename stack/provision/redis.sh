#!/usr/bin/env bash
# Redis server from Debian's package.
source "$(dirname "$0")/lib.sh"
PART=redis
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v redis-server >/dev/null 2>&1 || fail "redis-server not found after install" "apt-get install redis-server"
# The Debian package starts a system-wide instance on 6379; the stack runs its own.
say "Redis at $(command -v redis-server)"
