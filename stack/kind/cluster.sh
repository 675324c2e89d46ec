#!/usr/bin/env bash
# A kind cluster on the node image built here (stack/provision/kind.sh: ecom-micro/kind-node:v<k8s>).
#
#   cluster.sh create [--name ecom] [--api-port 16543] [--workers 0]
#       creates it (or finds it healthy: a no-op; --workers N adds N worker nodes, and fails on a
#       running cluster with another number of them), waits
#       for the node Ready, CoreDNS running and the default StorageClass (local-path) serving; prints the
#       kubeconfig path on stdout: $ECOM_CACHE/kind/<name>.kubeconfig (~/.kube/config is not touched).
#       A create that fails deletes what it created.
#   cluster.sh delete [--name ecom]                      deletes it (a no-op when absent)
#   cluster.sh status [--name ecom]                      exit 0 when healthy; prints what is missing
#   cluster.sh kubeconfig [--name ecom]                  prints the kubeconfig path
#   cluster.sh load [--name ecom] IMAGE...               kind load docker-image (use imagePullPolicy: Never
#                                                        or IfNotPresent with a non-latest tag)
# Environment: ECOM_KIND_API_PORT (default 16543), ECOM_KIND_TIMEOUT (seconds to wait, default 300).
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kind-cluster

NAME=ecom
API_PORT="${ECOM_KIND_API_PORT:-16543}"
WORKERS=""
TIMEOUT="${ECOM_KIND_TIMEOUT:-300}"
ACTION="${1:-}"; shift || true
IMAGES=()
while (($#)); do
  case "$1" in
    --name) NAME="${2:?--name needs a value}"; shift 2 ;;
    --name=*) NAME="${1#--name=}"; shift ;;
    --api-port) API_PORT="${2:?--api-port needs a value}"; shift 2 ;;
    --api-port=*) API_PORT="${1#--api-port=}"; shift ;;
    --workers) WORKERS="${2:?--workers needs a value}"; shift 2 ;;
    --workers=*) WORKERS="${1#--workers=}"; shift ;;
    -*) fail "unknown option '$1'" "see the usage at the top of stack/kind/cluster.sh" ;;
    *) IMAGES+=("$1"); shift ;;
  esac
done
[[ "${WORKERS:-0}" =~ ^[0-9]$ ]] || fail "invalid --workers '$WORKERS'" "give a number from 0 to 9"
[[ "$NAME" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || fail "invalid cluster name '$NAME'" "use lower-case letters, digits and dashes"

KIND="$ECOM_CACHE/kind-$KIND_VERSION/bin/kind"
KUBECTL="$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin/kubectl"
OUT="$ECOM_CACHE/kind"
KUBECONFIG_FILE="$OUT/$NAME.kubeconfig"
CONFIG_FILE="$OUT/$NAME.yaml"
NODE_IMAGE="ecom-micro/kind-node:v$KUBERNETES_VERSION"
mkdir -p "$OUT"

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --request-timeout=10s "$@"; }
node_containers() { docker ps -a --filter "label=io.x-k8s.kind.cluster=$NAME" --format '{{.Names}}'; }
# True when this host's capability bounding set lacks CAP_SYS_RESOURCE (bit 24).
lacks_sys_resource() {
  local bnd; bnd="$(awk '/^CapBnd:/{print $2}' /proc/self/status)"
  (( (16#$bnd >> 24 & 1) == 0 ))
}

# missing_parts: prints what keeps the cluster from being healthy (nothing when it is).
missing_parts() {
  [ -s "$KUBECONFIG_FILE" ] || { echo "kubeconfig"; return; }
  local ready
  ready="$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null)" \
    || { echo "API server"; return; }
  if [ -z "$ready" ] || grep -qv '^True$' <<<"$ready"; then echo "node Ready"; fi
  [ "$(kc -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" -ge 1 ] 2>/dev/null \
    || echo "CoreDNS"
  kc get storageclass -o jsonpath='{range .items[*]}{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}{"\n"}{end}' 2>/dev/null \
    | grep -qx true || echo "default StorageClass"
  # Routes between nodes (node images with the pod-routes DaemonSet): ready on every node.
  local routes; routes="$(kc -n kube-system get ds pod-routes -o jsonpath='{.status.numberReady}/{.status.desiredNumberScheduled}' 2>/dev/null || true)"
  [ -z "$routes" ] || [ "${routes%/*}" = "${routes#*/}" ] || echo "pod-routes"
  [ "$(kc -n local-path-storage get deploy local-path-provisioner -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" -ge 1 ] 2>/dev/null \
    || echo "local-path-provisioner"
}

# wait_healthy SECONDS: waits until nothing is missing, with a progress line every 15 s.
wait_healthy() {
  local deadline=$((SECONDS + $1)) start=$SECONDS last=$SECONDS missing
  while missing="$(missing_parts)"; [ -n "$missing" ]; do
    if ((SECONDS >= deadline)); then
      say "still missing after $1 s: $(tr '\n' ' ' <<<"$missing")"
      return 1
    fi
    if ((SECONDS - last >= 15)); then
      say "… waiting for: $(tr '\n' ' ' <<<"$missing")($((SECONDS - start)) s)"; last=$SECONDS
    fi
    sleep 2
  done
}

render_config() {
  local patches=""
  # One more item of containerdConfigPatches: the TOML file as a YAML block scalar.
  if lacks_sys_resource; then patches="$(printf '  - |-\n'; sed 's/^/    /' "$STACK_DIR/kind/containerd-restrict-oom.toml")"; fi
  local line
  while IFS= read -r line; do
    if [ "$line" = "@CONTAINERD_PATCHES@" ]; then
      [ -z "$patches" ] || printf '%s\n' "$patches"
    elif [ "$line" = "@WORKERS@" ]; then
      local i; for ((i = 0; i < ${WORKERS:-0}; i++)); do printf '  - role: worker\n'; done
    else
      line="${line//@NAME@/$NAME}"; printf '%s\n' "${line//@API_PORT@/$API_PORT}"
    fi
  done <"$STACK_DIR/kind/cluster.yaml" >"$CONFIG_FILE"
}

check_port() {
  [[ "$API_PORT" =~ ^[0-9]+$ ]] && ((API_PORT > 0 && API_PORT < 65536)) || fail "invalid API server port '$API_PORT'" "pass --api-port N"
  local low high
  read -r low high </proc/sys/net/ipv4/ip_local_port_range
  if ((API_PORT >= low && API_PORT <= high)); then
    fail "API server port $API_PORT is inside the kernel's ephemeral range $low-$high" "choose one below $low with --api-port or ECOM_KIND_API_PORT"
  fi
  if [ -n "$(ss -ltnH "sport = :$API_PORT" 2>/dev/null)" ]; then
    fail "port $API_PORT is already taken by another process" "stop it (ss -ltnp 'sport = :$API_PORT') or choose another with --api-port"
  fi
}

CREATED=""
undo_create() {
  local rc=$?
  if [ -n "$CREATED" ] && ((rc != 0)); then
    say "create failed: deleting the half-made cluster $NAME (logs kept in $OUT/$NAME-logs)"
    rm -rf "$OUT/$NAME-logs"
    "$KIND" export logs "$OUT/$NAME-logs" --name "$NAME" >/dev/null 2>&1 || true
    "$KIND" delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >/dev/null 2>&1 || true
    rm -f "$KUBECONFIG_FILE" "$CONFIG_FILE"
  fi
}

create() {
  local start=$SECONDS
  bash "$STACK_DIR/provision/kind.sh" >&2
  if [ -n "$(node_containers)" ]; then
    # Stopped nodes (a Docker or host restart) come back with `docker start`.
    local stopped; stopped="$(docker ps -a --filter "label=io.x-k8s.kind.cluster=$NAME" --filter status=exited --format '{{.Names}}')"
    if [ -n "$stopped" ]; then say "starting the stopped nodes: $stopped"; docker start $stopped >/dev/null; fi
    local workers; workers="$(node_containers | grep -c -- '-worker' || true)"
    if [ -n "$WORKERS" ] && ((workers != WORKERS)); then
      fail "cluster $NAME has $workers worker node(s), not the $WORKERS asked for" "delete it first: bash stack/kind/cluster.sh delete --name $NAME"
    fi
    [ -s "$KUBECONFIG_FILE" ] || "$KIND" export kubeconfig --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >/dev/null 2>&1
    if ! wait_healthy 120; then
      fail "cluster $NAME exists but is not healthy" "look at it (KUBECONFIG=$KUBECONFIG_FILE) or delete it: bash stack/kind/cluster.sh delete --name $NAME"
    fi
    local running current; running="$(docker inspect -f '{{.Image}}' $(node_containers) | sort -u)"
    current="$(docker image inspect -f '{{.Id}}' "$NODE_IMAGE" 2>/dev/null || true)"
    [ "$running" = "$current" ] || say "note: cluster $NAME runs an older build of $NODE_IMAGE (delete and create it to switch)"
    say "cluster $NAME is already up and healthy"
    printf '%s\n' "$KUBECONFIG_FILE"
    return
  fi
  check_port
  render_config
  say "creating cluster $NAME from $NODE_IMAGE (API server on 127.0.0.1:$API_PORT$(lacks_sys_resource && printf '; containerd restrict_oom_score_adj, no CAP_SYS_RESOURCE here'))"
  CREATED=1
  trap undo_create EXIT
  trap 'exit 130' INT TERM
  rm -f "$KUBECONFIG_FILE"
  "$KIND" create cluster --name "$NAME" --image "$NODE_IMAGE" --config "$CONFIG_FILE" \
    --kubeconfig "$KUBECONFIG_FILE" --wait 0s --retain >&2 \
    || fail "kind create cluster failed" "see the lines above; the node's logs are in $OUT/$NAME-logs"
  say "nodes created ($((SECONDS - start)) s); waiting for the node, CoreDNS and the default StorageClass"
  wait_healthy "$TIMEOUT" || fail "cluster $NAME did not become healthy in $TIMEOUT s" "the node's logs are in $OUT/$NAME-logs"
  CREATED=""
  trap - EXIT INT TERM
  say "cluster $NAME ready in $((SECONDS - start)) s: KUBECONFIG=$KUBECONFIG_FILE"
  printf '%s\n' "$KUBECONFIG_FILE"
}

delete() {
  if [ -z "$(node_containers)" ]; then say "no cluster $NAME"; rm -f "$KUBECONFIG_FILE"; return; fi
  [ -x "$KIND" ] || fail "kind is not built" "run: bash stack/provision/kind.sh kind"
  say "deleting cluster $NAME"
  "$KIND" delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_FILE" >&2
  rm -f "$KUBECONFIG_FILE" "$CONFIG_FILE"
}

status() {
  local missing
  [ -n "$(node_containers)" ] || { say "no cluster $NAME"; exit 1; }
  missing="$(missing_parts)"
  if [ -n "$missing" ]; then say "cluster $NAME is missing: $(tr '\n' ' ' <<<"$missing")"; exit 1; fi
  say "cluster $NAME is healthy (KUBECONFIG=$KUBECONFIG_FILE)"
}

load() {
  ((${#IMAGES[@]})) || fail "no image given" "usage: cluster.sh load [--name $NAME] IMAGE..."
  [ -n "$(node_containers)" ] || fail "no cluster $NAME" "create it: bash stack/kind/cluster.sh create --name $NAME"
  "$KIND" load docker-image --name "$NAME" "${IMAGES[@]}" >&2
}

need docker "install Docker (bash stack/provision/docker.sh)"
case "$ACTION" in
  create) with_lock "kind-cluster-$NAME" create ;;
  delete) with_lock "kind-cluster-$NAME" delete ;;
  status) status ;;
  kubeconfig) printf '%s\n' "$KUBECONFIG_FILE" ;;
  load) load ;;
  *) fail "unknown action '${ACTION}'" "use: cluster.sh create|delete|status|kubeconfig|load [--name NAME]" ;;
esac
