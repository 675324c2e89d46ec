# Shared helpers for the provisioning scripts. Sourced, never executed.
# Everything downloaded or built lives outside the clone, keyed by version, so a
# fresh clone on the same machine (CI) reuses it.
set -euo pipefail

ECOM_CACHE="${ECOM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ecom-micro}"
STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$STACK_DIR/versions.env"
REPO_DIR="$(cd "$STACK_DIR/.." && pwd)"
mkdir -p "$ECOM_CACHE"

# One line per step, prefixed by the part's name; long steps print elapsed time.
say() { printf '[provision:%s] %s\n' "${PART:-stack}" "$*" >&2; }

# fail "what is wrong" "how to fix it": one line, non-zero exit.
fail() { printf '[provision:%s] error: %s — %s\n' "${PART:-stack}" "$1" "$2" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is not on PATH" "$2"; }

# run_logged LOGFILE CMD...: runs a long command with its output in LOGFILE and
# a heartbeat line every 30 s, so a multi-minute build shows it is alive.
run_logged() {
  local log="$1"; shift
  local start=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      say "… still working ($((SECONDS - start)) s; log: $log; $(tail -n1 "$log" | cut -c1-100))"
    fi
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    fail "step failed after $((SECONDS - start)) s: $*" "see $log"
  fi
  say "done in $((SECONDS - start)) s"
}

# A lock per part, so two concurrent provisioners (npm start + npm test) never
# build the same thing at once.
ECOM_HELD_LOCKS=()
with_lock() {
  local name="$1"; shift
  local lockfd
  exec {lockfd}>"$ECOM_CACHE/.$name.lock"
  flock "$lockfd"
  ECOM_HELD_LOCKS+=("$lockfd")
  # Called plainly (not in `||` or `if`), so `set -e` still stops the script at the first failure;
  # exiting releases the lock.
  "$@"
  # Released here: a later with_lock on the same name in this process must not wait for itself.
  unset 'ECOM_HELD_LOCKS[-1]'
  exec {lockfd}>&-
}

# daemonize LOG CMD...: starts a long-lived process in its own session, detached from the
# terminal and without the provisioning locks this script holds (a daemon that inherited one
# would hold it for as long as it lives). Prints its pid.
daemonize() {
  local log="$1"; shift
  (
    for fd in "${ECOM_HELD_LOCKS[@]}"; do eval "exec $fd>&-"; done
    exec setsid "$@" >"$log" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!"
}

# wait_started PID SECONDS LOG CHECK...: waits until CHECK succeeds; fails (after printing LOG's last
# lines) when the process PID died first or SECONDS passed.
wait_started() {
  local pid="$1" deadline=$((SECONDS + $2)) log="$3"; shift 3
  until "$@"; do
    if ((SECONDS > deadline)) || ! kill -0 "$pid" 2>/dev/null; then
      tail -n 5 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
}

# stop_pidfile FILE WHAT: stops the process FILE names (SIGTERM, then waits up to 30 s for it to go)
# and removes FILE; nothing to do without FILE.
stop_pidfile() {
  [ -f "$1" ] || return 0
  local pid; pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $2 ($pid)"
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  fi
  rm -f "$1"
}

apt_install() {
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    fail "missing Debian packages: $*" "install them with: apt-get install -y $*"
  fi
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  if [ ! -f "$ECOM_CACHE/.apt-updated" ] || [ -n "$(find "$ECOM_CACHE/.apt-updated" -mmin +1440)" ]; then
    say "apt-get update"
    $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed" "check the Debian mirror is reachable"
    touch "$ECOM_CACHE/.apt-updated"
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null \
    || fail "apt-get install $* failed" "run it by hand to see why"
}
