#!/usr/bin/env bash
# Everything on a Kubernetes cluster, kind or any other, in one command:
#
#   npm run kube:install -- --kubeconfig PATH [--namespace ecom] [--values FILE]... [--set KEY=VALUE]...
#                           [--kind-name NAME | --dapr-registry REGISTRY] [--timeout SECONDS]
#
#   1. Dapr's control plane, when the cluster has none: Dapr's own Helm chart from the dapr Go module
#      (stack/kind/dapr.sh) with the Dapr images built here, loaded into the kind cluster --kind-name,
#      or pulled from --dapr-registry (where you pushed them). A Dapr installed some other way (another
#      helm release, `dapr init -k`, plain manifests) is detected and left alone.
#   2. this project's chart as release `ecom` in --namespace: the EcomStack CRD, the operator with its
#      least-privilege RBAC, and the EcomStack the values describe (stack.enabled, stack.spec). A
#      release an interrupted run left pending is rolled back (or removed) first.
#   3. waits until that EcomStack reports Ready (not when the values create none), printing each new
#      Ready message; --timeout bounds the wait (default 900 s).
#
# Idempotent: a second run upgrades the release in place, and the operator rolls only what changed.
# A failure prints one line: what is wrong and how to fix it. Needs Go (Dapr's chart comes from its
# module) and jq; installing Dapr without --dapr-registry needs a Docker engine too (its images are
# built here). helm and kubectl are built from Go modules when missing. Prints nothing on stdout.
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kube-install

KUBECONFIG_PATH="" NAMESPACE=ecom KIND_NAME="" DAPR_REGISTRY="" TIMEOUT=900
RELEASE=ecom
helm_args=()
usage() {
  fail "$1" "usage: install.sh --kubeconfig PATH [--namespace NS] [--values FILE]... [--set KEY=VALUE]... [--kind-name NAME | --dapr-registry REGISTRY] [--timeout SECONDS]"
}
while (($#)); do
  case "$1" in
    --kubeconfig) KUBECONFIG_PATH="${2:-}"; shift 2 || usage "--kubeconfig needs a path" ;;
    --namespace) NAMESPACE="${2:-}"; shift 2 || usage "--namespace needs a value" ;;
    --values)
      [ -f "${2:-}" ] || usage "no values file '${2:-}'"
      helm_args+=(-f "$2"); shift 2 ;;
    --set) [ -n "${2:-}" ] || usage "--set needs KEY=VALUE"; helm_args+=(--set "$2"); shift 2 ;;
    --kind-name) KIND_NAME="${2:-}"; shift 2 || usage "--kind-name needs a value" ;;
    --dapr-registry) DAPR_REGISTRY="${2:-}"; shift 2 || usage "--dapr-registry needs a value" ;;
    --timeout) TIMEOUT="${2:-}"; shift 2 || usage "--timeout needs a value" ;;
    *) usage "unknown argument '$1'" ;;
  esac
done
[ -n "$KUBECONFIG_PATH" ] || usage "--kubeconfig is required"
[ -f "$KUBECONFIG_PATH" ] || fail "no kubeconfig at $KUBECONFIG_PATH" "pass your cluster's kubeconfig: --kubeconfig PATH"
[ -n "$NAMESPACE" ] || usage "--namespace needs a value"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || usage "--timeout takes seconds, not '$TIMEOUT'"
need jq "apt-get install jq"

HELM="$ECOM_CACHE/helm-$HELM_VERSION/bin/helm"
KUBECTL="$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin/kubectl"
[ -x "$HELM" ] || bash "$STACK_DIR/provision/kube.sh" helm
[ -x "$KUBECTL" ] || bash "$STACK_DIR/provision/kube.sh" kubectl
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" --request-timeout=30s "$@"; }
helm() { "$HELM" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
mkdir -p "$ECOM_CACHE/logs"
log="$ECOM_CACHE/logs/kube-install-helm.log"

start=$SECONDS
step() { say "[$((SECONDS - start)) s] $*"; }

# The cluster: it answers, it is new enough for the CRD, and this kubeconfig may install CRDs.
version="$(kubectl version -o json 2>"$log")" \
  || fail "the cluster does not answer: $(grep -v '^\s*$' "$log" | tail -n1 | cut -c1-200)" "check --kubeconfig $KUBECONFIG_PATH (kubectl cluster-info)"
minor="$(jq -r '.serverVersion.minor // "0" | gsub("[^0-9]"; "")' <<<"$version")"
((minor >= 30)) || fail "the cluster runs Kubernetes 1.$minor" "use 1.30 or newer: the EcomStack CRD has CEL validation rules and the backends set a persistentVolumeClaimRetentionPolicy"
[ "$(kubectl auth can-i create customresourcedefinitions.apiextensions.k8s.io 2>/dev/null)" = yes ] \
  || fail "this kubeconfig may not create CustomResourceDefinitions" "install with a cluster-admin kubeconfig (the CRDs and Dapr's control plane are cluster-wide)"
if [ -z "$(kubectl get storageclass -o json 2>/dev/null | jq -r '.items[]
  | select(.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true") | .metadata.name')" ]; then
  say "warning: no default StorageClass: the managed backends' volumes stay Pending unless stack.spec.infrastructure.<backend>.managed.storageClassName names one"
fi

step "Dapr control plane"
dapr_args=(--kubeconfig "$KUBECONFIG_PATH")
[ -z "$KIND_NAME" ] || dapr_args+=(--kind-name "$KIND_NAME")
[ -z "$DAPR_REGISTRY" ] || dapr_args+=(--registry "$DAPR_REGISTRY")
bash "$STACK_DIR/kind/dapr.sh" install "${dapr_args[@]}"

step "the chart: release $RELEASE in namespace $NAMESPACE (CRD, operator, EcomStack)"
# A run killed during `helm upgrade` leaves the release pending, and helm refuses every later upgrade.
status="$(helm status "$RELEASE" -n "$NAMESPACE" -o json 2>/dev/null | jq -r '.info.status' || true)"
case "$status" in
  pending-upgrade | pending-rollback)
    say "release $RELEASE was left $status by an interrupted run: rolling it back first"
    helm rollback "$RELEASE" -n "$NAMESPACE" --wait >"$log" 2>&1 || fail "helm rollback $RELEASE failed" "see $log" ;;
  pending-install)
    say "release $RELEASE was left pending-install by an interrupted run: removing it first"
    helm uninstall "$RELEASE" -n "$NAMESPACE" --wait >"$log" 2>&1 || fail "helm uninstall $RELEASE failed" "see $log" ;;
esac
if ! helm upgrade --install "$RELEASE" "$REPO_DIR/charts/ecom-micro" -n "$NAMESPACE" --create-namespace \
  "${helm_args[@]}" --wait --timeout 5m >"$log" 2>&1; then
  error="$(grep -m1 '^Error' "$log" | cut -c1-240)"
  hint="see $log"
  # Timed out waiting: the operator's pod did not become ready.
  [[ "$error" != *"deadline exceeded"* ]] || hint+="; kubectl --kubeconfig $KUBECONFIG_PATH -n $NAMESPACE describe pods -l app.kubernetes.io/name=ecom-operator"
  fail "helm upgrade --install $RELEASE failed: ${error:-see the log}" "$hint"
fi

# The EcomStack the release made, if any, from the values helm used.
values="$(helm get values "$RELEASE" -n "$NAMESPACE" --all -o json 2>"$log")" \
  || fail "helm get values $RELEASE failed: $(head -n1 "$log" | cut -c1-200)" "see $log"
enabled="$(jq -r '.stack.enabled' <<<"$values")"
stack="$(jq -r '.stack.name' <<<"$values")"
stack_ns="$(jq -r --arg ns "$NAMESPACE" '.stack.namespace | select(. != "") // $ns' <<<"$values")"
watched="$(jq -r --arg ns "$NAMESPACE" '(.operator.watchNamespaces // []) | if length == 0 then [$ns] else . end | join(",")' <<<"$values")"
if [ "$enabled" != true ]; then
  step "done: the operator runs in $NAMESPACE; the values create no EcomStack"
  say "  create one: kubectl --kubeconfig $KUBECONFIG_PATH apply -n $NAMESPACE -f operator/examples/ecomstack.yaml"
  exit 0
fi
[[ ",$watched," == *",$stack_ns,"* ]] \
  || fail "EcomStack $stack is in namespace $stack_ns, which the operator does not watch ($watched)" "add $stack_ns to operator.watchNamespaces (--set 'operator.watchNamespaces={$watched,$stack_ns}') and run this again"
# Why pods are not ready, on stderr, for a run whose output is all a reader gets (CI): for every
# container not ready, its state, its last termination and the tail of its previous and current logs.
explain_unready_pods() {
  local ns="$1" pod container
  kubectl -n "$ns" get pods -o json 2>/dev/null | jq -r '.items[] | .metadata.name as $p
    | .status.containerStatuses[]? | select(.ready | not)
    | "\($p) \(.name) restarts=\(.restartCount) state=\(.state | keys[0]) \(.state[]?.reason // "")"
      + " last=\(.lastState.terminated | if . then "\(.reason) exit \(.exitCode)" else "none" end)"' |
    while read -r pod container rest; do
      say "not ready: pod $pod container $container $rest"
      kubectl -n "$ns" logs "$pod" -c "$container" --previous --tail 40 2>/dev/null | sed "s/^/[$container previous] /" >&2 || true
      kubectl -n "$ns" logs "$pod" -c "$container" --tail 40 2>/dev/null | sed "s/^/[$container] /" >&2 || true
    done
  kubectl -n "$ns" get events --field-selector type=Warning --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
}
step "waiting for EcomStack $stack in namespace $stack_ns to report Ready (first start: a few minutes)"
# Ready for the current spec: its Ready condition True and written for the stack's latest generation
# (a re-run that changed the spec waits for the operator's new rollout, not the last one's verdict).
deadline=$((SECONDS + TIMEOUT))
last=""
until
  obj="$(kubectl -n "$stack_ns" get ecomstack "$stack" -o json 2>/dev/null || true)"
  [ "$(jq -r '.metadata.generation as $g
    | [.status.conditions[]? | select(.type == "Ready" and .status == "True" and .observedGeneration == $g)]
    | length' <<<"$obj")" = 1 ]
do
  if ((SECONDS > deadline)); then
    kubectl -n "$stack_ns" get pods >&2 || true
    explain_unready_pods "$stack_ns" || true
    [ -n "$last" ] || fail "EcomStack $stack has no status after $TIMEOUT s: the operator has not reconciled it" \
      "kubectl --kubeconfig $KUBECONFIG_PATH -n $NAMESPACE logs deploy/$RELEASE-operator"
    fail "EcomStack $stack not Ready after $TIMEOUT s: $last" "kubectl --kubeconfig $KUBECONFIG_PATH -n $stack_ns describe ecomstack $stack"
  fi
  now="$(jq -r '[.status.conditions[]? | select(.type == "Ready")][0].message // ""' <<<"$obj")"
  if [ "$now" != "$last" ]; then say "… ${now:-not observed yet}"; last="$now"; fi
  sleep 5
done
step "ready: EcomStack $stack in namespace $stack_ns, on Dapr $(jq -r '.status.daprVersion // "(version unknown)"' <<<"$obj")"
cat >&2 <<MSG
[provision:$PART]   export KUBECONFIG=$KUBECONFIG_PATH
[provision:$PART]   kubectl -n $stack_ns get ecomstack,pods
[provision:$PART]   kubectl -n $stack_ns port-forward svc/$stack-edge 8080:http &   # the shop's public edge
[provision:$PART]   curl -s localhost:8080/v1.0/invoke/inventory/method/products
MSG
