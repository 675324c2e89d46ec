#!/usr/bin/env bash
# A container image registry on this machine, for a cluster that pulls its images rather than having
# them loaded (`kind load`): the CNCF distribution registry built from its Go module and run as a local
# process, storing on disk under the cache. It stands in for the registry you push to on a real cluster.
#
#   registry.sh start    builds it (cached) and starts it on 0.0.0.0:$ECOM_REGISTRY_PORT (default 15500);
#                        a registry already answering there is used as it is. Prints its address on stdout.
#   registry.sh push PREFIX IMAGE...
#                        tags each local IMAGE (repository:tag) as localhost:PORT/PREFIX/<last path part>:tag
#                        and pushes it; prints the new references on stdout.
#   registry.sh connect NODE...
#                        lets kind nodes pull localhost:PORT/... : a containerd hosts.toml on each node points
#                        that name at this machine over plain HTTP (needs the cluster's containerd config_path,
#                        which stack/kind/cluster.yaml sets)
#   registry.sh stop     stops a registry this script started
#
# No authentication and plain HTTP: for this machine only, as the port is not reachable from elsewhere.
source "$(dirname "$0")/lib.sh"
PART=registry
REGISTRY_VERSION=3.1.2
PORT="${ECOM_REGISTRY_PORT:-15500}"
OUT="$ECOM_CACHE/registry-$REGISTRY_VERSION"
STATE="$ECOM_CACHE/registry-data"
BIN="$OUT/bin/registry"

answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/v2/" 2>/dev/null; }

build() {
  if [ -x "$BIN" ]; then return; fi
  need go "install Go 1.26+"
  mkdir -p "$OUT/bin"
  say "building distribution registry v$REGISTRY_VERSION from its Go module (about 2 minutes on 2 cores)"
  run_logged "$OUT/build.log" env GOBIN="$OUT/bin" CGO_ENABLED=0 \
    go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@v$REGISTRY_VERSION"
}

start() {
  if answers; then say "a registry answers on port $PORT"; printf 'localhost:%s\n' "$PORT"; return; fi
  with_lock "registry-$REGISTRY_VERSION" build
  mkdir -p "$STATE"
  cat >"$STATE/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/storage
  delete:
    enabled: true
http:
  addr: 0.0.0.0:$PORT
YAML
  local pid
  pid="$(OTEL_TRACES_EXPORTER=none daemonize "$STATE/registry.log" "$BIN" serve "$STATE/config.yml")"
  printf '%s\n' "$pid" >"$STATE/registry.pid"
  if ! wait_started "$pid" 30 "$STATE/registry.log" answers; then
    stop
    fail "the registry did not start on port $PORT" "see $STATE/registry.log; another port: ECOM_REGISTRY_PORT=15501"
  fi
  say "registry v$REGISTRY_VERSION on port $PORT (pid $pid, data $STATE/storage)"
  printf 'localhost:%s\n' "$PORT"
}

stop() { stop_pidfile "$STATE/registry.pid" "the registry"; }

push() {
  local prefix="${1:?push needs a PREFIX}"; shift
  answers || fail "no registry answers on port $PORT" "start it: bash stack/provision/registry.sh start"
  local image target
  for image in "$@"; do
    docker image inspect "$image" >/dev/null 2>&1 || fail "no local image $image" "build it first (npm run kind:up builds them all)"
    target="localhost:$PORT/$prefix/${image##*/}"
    docker tag "$image" "$target"
    docker push -q "$target" >/dev/null || fail "docker push $target failed" "see $STATE/registry.log"
    say "pushed $target"
    printf '%s\n' "$target"
  done
}

# The host as the kind nodes see it: the gateway of the docker network they sit on.
connect() {
  local node gateway
  for node in "$@"; do
    gateway="$(docker inspect "$node" | jq -r '.[0].NetworkSettings.Networks | to_entries[0].value.Gateway')"
    [ -n "$gateway" ] && [ "$gateway" != null ] || fail "no docker network gateway for node $node" "is $node a kind node? (kind get nodes)"
    docker exec -i "$node" sh -c "mkdir -p /etc/containerd/certs.d/localhost:$PORT && cat >/etc/containerd/certs.d/localhost:$PORT/hosts.toml" <<TOML
server = "http://$gateway:$PORT"
[host."http://$gateway:$PORT"]
  capabilities = ["pull", "resolve"]
TOML
    say "node $node pulls localhost:$PORT/... from http://$gateway:$PORT"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  push) shift; [ $# -ge 2 ] || fail "push needs a PREFIX and images" "registry.sh push PREFIX IMAGE..."; push "$@" ;;
  connect) shift; [ $# -ge 1 ] || fail "connect needs kind node names" "registry.sh connect \$(kind get nodes --name NAME)"; connect "$@" ;;
  *) fail "unknown command '${1:-}'" "registry.sh start|push PREFIX IMAGE...|connect NODE...|stop" ;;
esac
