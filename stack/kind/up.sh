#!/usr/bin/env bash
# The whole system in a local kind cluster, from nothing: `npm run kind:up` (and `npm run kind:down`).
#
#   up.sh [--name ecom]     1. a Docker engine (started by hand when none answers) and the base images
#                           2. every image: kind's node, Dapr's runtime and control plane, Kafka,
#                              PostgreSQL, Redis, FerretDB, the operator, the seven services and
#                              the public edge
#                           3. the kind cluster, with those images loaded into it
#                           4. Dapr's control plane (its own Helm chart), then this project's chart:
#                              the CRD, the operator, and one EcomStack whose apps run the images
#                              just built; waits until the EcomStack reports Ready
#   up.sh --down [--name ecom]   deletes the cluster (and stops a dockerd that up.sh started)
#
# Idempotent: everything is cached by version ($ECOM_CACHE), a healthy cluster is reused, and a second
# run only rolls what changed. A run that fails after creating the cluster deletes it again: a
# cluster is either whole or absent. Prints the kubeconfig path and how to call the shop at the end.
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kind-up

NAME=ecom
NAMESPACE="${ECOM_KIND_NAMESPACE:-ecom}"
STACK=shop
DOWN=0
while (($#)); do
  case "$1" in
    --name) NAME="${2:?--name needs a value}"; shift 2 ;;
    --down) DOWN=1; shift ;;
    *) fail "unknown argument '$1'" "usage: up.sh [--name NAME] [--down]" ;;
  esac
done
PROVISION="$STACK_DIR/provision"
HELM="$ECOM_CACHE/helm-$HELM_VERSION/bin/helm"
KUBECTL="$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin/kubectl"
TIMEOUT="${ECOM_KIND_STACK_TIMEOUT:-900}"

if ((DOWN)); then
  bash "$STACK_DIR/kind/cluster.sh" delete --name "$NAME"
  if [ -f "$ECOM_CACHE/dockerd/started-here" ] && [ -z "$(docker ps -q 2>/dev/null)" ]; then
    bash "$PROVISION/docker.sh" stop
  fi
  exit 0
fi

start=$SECONDS
step() { say "[$((SECONDS - start)) s] $*"; }

step "1/4 Docker engine and base images"
bash "$PROVISION/docker.sh" all
step "2/4 images (cold: about 40 min on 2 cores, mostly Go builds; warm: seconds)"
bash "$PROVISION/kube.sh" helm
bash "$PROVISION/kind.sh" all
bash "$PROVISION/dapr-images.sh" build
bash "$PROVISION/infra-images.sh" all
bash "$PROVISION/app-images.sh" build

step "3/4 kind cluster '$NAME'"
created=0
bash "$STACK_DIR/kind/cluster.sh" status --name "$NAME" >/dev/null 2>&1 || created=1
kubeconfig="$(bash "$STACK_DIR/kind/cluster.sh" create --name "$NAME")"
# From here on a failure removes a cluster this run created.
undo() {
  local rc=$?
  if ((rc != 0 && created)); then
    say "setup failed: deleting the cluster this run created"
    bash "$STACK_DIR/kind/cluster.sh" delete --name "$NAME" || true
  fi
  exit "$rc"
}
trap undo EXIT
declare -A app
while IFS='=' read -r key ref; do app[$key]="$ref"; done <"$ECOM_CACHE/kind/app-images.env"
mapfile -t infra < <(bash "$PROVISION/infra-images.sh" list)
bash "$STACK_DIR/kind/cluster.sh" load --name "$NAME" "${app[@]}" "${infra[@]}"

step "4/4 Dapr control plane, the chart and an EcomStack in namespace $NAMESPACE"
bash "$STACK_DIR/kind/dapr.sh" install --kubeconfig "$kubeconfig" --kind-name "$NAME"
sets=(--set "operator.image.repository=${app[operator]%:*}" --set "operator.image.tag=${app[operator]##*:}")
for s in auth user notification order inventory payment saga; do
  sets+=(--set "stack.spec.services.$s.image=${app[$s]}")
done
sets+=(--set "stack.spec.edge.image=${app[edge]}")
log="$ECOM_CACHE/kind/helm-ecom.log"
# A run killed during `helm upgrade` leaves the release pending, and helm refuses every later upgrade.
status="$(KUBECONFIG="$kubeconfig" "$HELM" status ecom -n "$NAMESPACE" -o json 2>/dev/null | jq -r '.info.status' || true)"
case "$status" in
  pending-upgrade | pending-rollback)
    say "release ecom was left $status by an interrupted run: rolling it back first"
    KUBECONFIG="$kubeconfig" "$HELM" rollback ecom -n "$NAMESPACE" --wait >"$log" 2>&1 || fail "helm rollback ecom failed" "see $log" ;;
  pending-install)
    say "release ecom was left pending-install by an interrupted run: removing it first"
    KUBECONFIG="$kubeconfig" "$HELM" uninstall ecom -n "$NAMESPACE" --wait >"$log" 2>&1 || fail "helm uninstall ecom failed" "see $log" ;;
esac
if ! KUBECONFIG="$kubeconfig" "$HELM" upgrade --install ecom "$REPO_DIR/charts/ecom-micro" -n "$NAMESPACE" \
  --create-namespace -f "$REPO_DIR/charts/ecom-micro/examples/kind-values.yaml" "${sets[@]}" \
  --wait --timeout 5m >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  fail "helm upgrade --install ecom failed" "see $log"
fi
step "waiting for EcomStack $STACK to report Ready (first start: a few minutes)"
deadline=$((SECONDS + TIMEOUT))
last=""
until [ "$("$KUBECTL" --kubeconfig "$kubeconfig" -n "$NAMESPACE" get ecomstack "$STACK" \
  -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
  if ((SECONDS > deadline)); then
    "$KUBECTL" --kubeconfig "$kubeconfig" -n "$NAMESPACE" get pods >&2 || true
    fail "EcomStack $STACK not Ready after ${TIMEOUT} s: $last" "kubectl --kubeconfig $kubeconfig -n $NAMESPACE describe ecomstack $STACK"
  fi
  now="$("$KUBECTL" --kubeconfig "$kubeconfig" -n "$NAMESPACE" get ecomstack "$STACK" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}' 2>/dev/null || true)"
  if [ "$now" != "$last" ]; then say "… ${now:-not observed yet}"; last="$now"; fi
  sleep 5
done
trap - EXIT
step "ready: EcomStack $STACK in namespace $NAMESPACE"
cat >&2 <<MSG
[kind-up] kubeconfig: $kubeconfig
[kind-up]   export KUBECONFIG=$kubeconfig
[kind-up]   kubectl -n $NAMESPACE get ecomstack,pods
[kind-up]   kubectl -n $NAMESPACE port-forward svc/$STACK-edge 8080:http &   # the shop's public edge
[kind-up]   curl -s localhost:8080/v1.0/invoke/inventory/method/products
MSG
printf '%s\n' "$kubeconfig"
