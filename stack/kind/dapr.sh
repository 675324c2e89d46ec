#!/usr/bin/env bash
# Dapr's control plane in a Kubernetes cluster: Dapr's own Helm chart (charts/dapr of the dapr Go
# module) with the images stack/provision/dapr-images.sh builds here, sized for a small cluster (no
# HA). In kind (--kind-name) one Scheduler keeps its etcd on a volume (stack/kind/dapr-one-scheduler.sh
# says why one); elsewhere the chart's three keep theirs in memory, so no volumes are needed.
#
#   dapr.sh install   --kubeconfig PATH [--kind-name NAME | --registry REGISTRY] [--timeout 5m]
#   dapr.sh uninstall --kubeconfig PATH [--registry REGISTRY]
#
# install builds the images (cached), loads them into kind when --kind-name is given, runs
# `helm upgrade --install dapr` into dapr-system and waits until every control-plane pod is Ready.
# With --registry nothing is built: the nodes pull REGISTRY/<daprd|operator|injector|sentry|placement|
# scheduler>:$DAPR_VERSION, the names Dapr's chart composes (push the images built here there first).
# Re-running is idempotent. A Dapr that something else installed (another helm release, `dapr init -k`,
# plain manifests) is left alone: install reports it and exits 0, uninstall refuses to touch it.
# uninstall removes the release and leaves Dapr's CRDs, as helm does.
source "$(dirname "$0")/../provision/lib.sh"
PART=kind-dapr

RELEASE=dapr
NAMESPACE=dapr-system
HELM="$ECOM_CACHE/helm-$HELM_VERSION/bin/helm"
KIND="$ECOM_CACHE/kind-$KIND_VERSION/bin/kind"
KUBECTL="$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin/kubectl"

usage() { fail "usage: dapr.sh install|uninstall --kubeconfig PATH [--kind-name NAME | --registry REGISTRY] [--timeout 5m]" "see the comment at the top of stack/kind/dapr.sh"; }

ACTION="${1:-}"; [ $# -gt 0 ] && shift
KUBECONFIG_PATH="" KIND_NAME="" REGISTRY="" TIMEOUT=5m
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) KUBECONFIG_PATH="${2:-}"; shift 2 || usage ;;
    --kind-name) KIND_NAME="${2:-}"; shift 2 || usage ;;
    --registry) REGISTRY="${2:-}"; shift 2 || usage ;;
    --timeout) TIMEOUT="${2:-}"; shift 2 || usage ;;
    *) usage ;;
  esac
done
case "$ACTION" in install | uninstall) ;; *) usage ;; esac
[ -n "$KUBECONFIG_PATH" ] || usage
[ -z "$KIND_NAME" ] || [ -z "$REGISTRY" ] || fail "--kind-name and --registry exclude each other" "kind loads the images built here; a registry serves them to any other cluster"
# The images' registry: the one given, else the local build's prefix (stack/versions.env).
PREFIX="${REGISTRY:-$DAPR_IMAGE_REGISTRY}"
[ -f "$KUBECONFIG_PATH" ] || fail "no kubeconfig at $KUBECONFIG_PATH" "create the cluster first, or pass the right --kubeconfig"

if [ ! -x "$HELM" ]; then bash "$STACK_DIR/provision/kube.sh" helm; fi
helm() { "$HELM" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# The chart Dapr ships in its Go module, at the pinned version.
chart_dir() {
  local dir
  dir="$(cd "$ECOM_CACHE" && GOFLAGS=-mod=mod go mod download -json "github.com/dapr/dapr@v$DAPR_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -f "$dir/charts/dapr/Chart.yaml" ] || fail "no charts/dapr in github.com/dapr/dapr@v$DAPR_VERSION" "check that the Go module proxy is reachable and DAPR_VERSION in stack/versions.env"
  printf '%s\n' "$dir/charts/dapr"
}

# Our values: no HA; the images from $PREFIX, and the local ones each by its content tag (an image name
# with a "/" is taken whole by the chart), so a rebuilt image rolls its pods. In kind the one Scheduler
# keeps its jobs on a volume of the node's default StorageClass: a restart must not lose the workflows'
# reminders, which an in-memory etcd of one member would. It is given two minutes of unanswered
# probes before kubelet restarts it, not 50 s: on two busy cores a slow answer is not a dead Scheduler.
# $1: the output of `dapr-images.sh list`, empty with --registry.
values() {
  jq -n --arg registry "$PREFIX" --arg tag "$DAPR_VERSION" --arg list "$1" --arg kind "$KIND_NAME" '
    ($list | split("\n") | map(select(. != "") | split(" ") | {key: .[0], value: {name: .[1]}}) | from_entries) as $img
    | {
        global: { registry: $registry, tag: $tag, imagePullPolicy: "IfNotPresent", ha: { enabled: false } },
        dapr_scheduler: (if $kind == "" then { cluster: { inMemoryStorage: true } } else {
          cluster: { inMemoryStorage: false, storageSize: "1Gi" },
          livenessProbe: { failureThreshold: 12 }
        } end),
        dapr_sidecar_injector: { sidecarImagePullPolicy: "IfNotPresent" }
      }
    * (if $list == "" then {} else {
        dapr_operator: { image: $img.operator },
        dapr_placement: { image: $img.placement },
        dapr_scheduler: { image: $img.scheduler },
        dapr_sentry: { image: $img.sentry },
        dapr_sidecar_injector: { image: $img.daprd, injectorImage: $img.injector }
      } end)'
}

# Every helm release of Dapr's chart in the cluster, as "namespace/name registry" lines.
dapr_releases() {
  local ns name
  helm list -A -a -o json | jq -r '.[] | select(.chart | test("^dapr-[0-9]")) | "\(.namespace) \(.name)"' |
    while read -r ns name; do
      printf '%s/%s %s\n' "$ns" "$name" "$(helm get values -n "$ns" "$name" -o json | jq -r '.global.registry // "ghcr.io/dapr (default)"')"
    done
}

# "; not Ready: pod (reason), ..." for a one-line error, when a kubectl is at hand.
unready_pods() {
  [ -x "$KUBECTL" ] || return 0
  local pods
  pods="$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=10s -n "$NAMESPACE" get pods -o json 2>/dev/null | jq -r '
    [.items[] | . as $p | select(([.status.conditions[]? | select(.type == "Ready" and .status == "True")] | length) == 0)
     | "\($p.metadata.name) (\(([.status.containerStatuses[]?.state | (.waiting.reason // .terminated.reason // empty)] | first) // $p.status.phase))"]
    | join(", ")' 2>/dev/null)" || return 0
  [ -z "$pods" ] || printf '; not Ready: %s' "$pods"
}

# Dapr installed without a helm release (plain manifests, a GitOps tool's own rendering): its sidecar
# injector's registration, whose name Dapr fixes. Empty when absent, or when no kubectl is at hand.
unmanaged_dapr() {
  [ -x "$KUBECTL" ] || return 0
  "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=10s get mutatingwebhookconfiguration \
    dapr-sidecar-injector --ignore-not-found -o json 2>/dev/null | jq -r 'select(.metadata) |
    "Dapr \(.metadata.labels["app.kubernetes.io/version"] // "of unknown version") in \(.webhooks[0].clientConfig.service.namespace // "an unknown namespace"), not a helm release"' || true
}

# ours|none|"foreign <description>"
current_install() {
  local releases
  releases="$(dapr_releases 2>"$ECOM_CACHE/kind-dapr-helm.log")" \
    || fail "the cluster does not answer: $(tail -n1 "$ECOM_CACHE/kind-dapr-helm.log" | cut -c1-160)" "check --kubeconfig $KUBECONFIG_PATH"
  [ -n "$releases" ] || releases="$(unmanaged_dapr)"
  if [ -z "$releases" ]; then echo none; return; fi
  if [ "$releases" = "$NAMESPACE/$RELEASE $PREFIX" ]; then echo ours; return; fi
  echo "foreign $(tr '\n' ';' <<<"$releases" | sed 's/;$//; s/;/; /g')"
}

# A kind cluster installed before the Scheduler moved to a volume runs the three in-memory members; a
# StatefulSet's volumeClaimTemplates cannot change in place, so that one is deleted first (its jobs are
# in memory: whatever workflow timers it held are lost, as any restart of it would lose them).
scheduler_on_disk() {
  local claims
  claims="$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get statefulset dapr-scheduler-server \
    --ignore-not-found -o json | jq -r 'select(.spec) | .spec.volumeClaimTemplates // [] | length')"
  if [ "$claims" = 0 ]; then
    say "replacing the in-memory Scheduler StatefulSet with one Scheduler on a volume"
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" delete statefulset dapr-scheduler-server --wait=true >/dev/null
  fi
}

install() {
  local state; state="$(current_install)"
  if [ "${state%% *}" = foreign ]; then
    say "Dapr is already installed by something else (${state#foreign }): leaving it alone"
    return
  fi
  local list=""
  if [ -z "$REGISTRY" ]; then
    bash "$STACK_DIR/provision/dapr-images.sh"
    list="$(bash "$STACK_DIR/provision/dapr-images.sh" list)"
  fi
  if [ -n "$KIND_NAME" ]; then
    [ -x "$KIND" ] || fail "kind is not provisioned ($KIND is missing)" "bash stack/provision/kind.sh"
    local images; mapfile -t images < <(cut -d' ' -f2 <<<"$list")
    say "loading ${#images[@]} images into kind cluster '$KIND_NAME' (kind skips those already there)"
    run_logged "$ECOM_CACHE/kind-dapr-load.log" "$KIND" load docker-image --name "$KIND_NAME" "${images[@]}"
  fi
  local chart values_file="$ECOM_CACHE/kind-dapr-values.json"
  chart="$(chart_dir)"
  values "$list" >"$values_file"
  say "helm upgrade --install $RELEASE (Dapr $DAPR_VERSION, images $PREFIX/*:$DAPR_VERSION${list:+-*}) into $NAMESPACE; waiting up to $TIMEOUT for Ready"
  local log="$ECOM_CACHE/kind-dapr-helm.log" start=$SECONDS
  local render=()
  if [ -n "$KIND_NAME" ]; then
    render=(--post-renderer "$STACK_DIR/kind/dapr-one-scheduler.sh")
    scheduler_on_disk
  fi
  if ! helm upgrade --install "$RELEASE" "$chart" -n "$NAMESPACE" --create-namespace -f "$values_file" \
    "${render[@]}" --history-max 3 --wait --timeout "$TIMEOUT" >"$log" 2>&1; then
    if grep -q 'exists and cannot be imported into the current release' "$log"; then
      say "Dapr's resources already exist in this cluster, installed without helm: leaving them alone ($(grep -o 'Unable to continue with install: [^:]*' "$log" | head -n1))"
      return
    fi
    fail "helm upgrade --install failed after $((SECONDS - start)) s: $(grep -m1 -i 'error' "$log" | cut -c1-200)$(unready_pods)" \
      "see $log and: kubectl --kubeconfig $KUBECONFIG_PATH -n $NAMESPACE describe pods"
  fi
  say "Dapr $DAPR_VERSION control plane Ready in $NAMESPACE ($((SECONDS - start)) s)"
}

uninstall() {
  local state; state="$(current_install)"
  case "${state%% *}" in
    none) say "no Dapr release in this cluster: nothing to do" ;;
    foreign) fail "Dapr here was installed by something else (${state#foreign })" "remove it with the tool that installed it" ;;
    ours)
      say "helm uninstall $RELEASE -n $NAMESPACE (Dapr's CRDs stay, as helm leaves them)"
      run_logged "$ECOM_CACHE/kind-dapr-helm.log" "$HELM" --kubeconfig "$KUBECONFIG_PATH" uninstall "$RELEASE" -n "$NAMESPACE" --wait --timeout "$TIMEOUT" ;;
  esac
}

need go "install Go 1.26+"
need jq "apt-get install jq"
"$ACTION"
