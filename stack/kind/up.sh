#!/usr/bin/env bash
# The whole system in a local kind cluster, from nothing: `npm run kind:up` (and `npm run kind:down`).
#
#   up.sh [--name ecom] [--workers N]
#                           1. a Docker engine (started by hand when none answers) and the base images
#                           2. every image: kind's node, Dapr's runtime and control plane, Kafka,
#                              PostgreSQL, Redis, FerretDB, the operator, the seven services and
#                              the public edge
#                           3. the kind cluster, with those images loaded into it
#                           4. stack/kind/install.sh (what `npm run kube:install` runs on any
#                              cluster): Dapr's control plane (its own Helm chart), then this
#                              project's chart: the CRD, the operator, and one EcomStack whose apps
#                              run the images just built; waits until the EcomStack reports Ready
#   --workers N (or ECOM_KIND_WORKERS=N) makes the cluster one control-plane node and N workers, the
#   apps' pods spread over the workers (a new cluster only: delete one of another shape first)
#   up.sh --down [--name ecom]   deletes the cluster (and stops a dockerd that up.sh started)
#
# Idempotent: everything is cached by version ($ECOM_CACHE), a healthy cluster is reused, and a second
# run only rolls what changed. A run that fails after creating the cluster deletes it again: a
# cluster is either whole or absent. Prints the kubeconfig path and how to call the shop at the end.
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kind-up

NAME=ecom
NAMESPACE="${ECOM_KIND_NAMESPACE:-ecom}"
DOWN=0
WORKERS="${ECOM_KIND_WORKERS:-}"
while (($#)); do
  case "$1" in
    --name) NAME="${2:?--name needs a value}"; shift 2 ;;
    --down) DOWN=1; shift ;;
    --workers) WORKERS="${2:?--workers needs a value}"; shift 2 ;;
    *) fail "unknown argument '$1'" "usage: up.sh [--name NAME] [--workers N] [--down]" ;;
  esac
done
PROVISION="$STACK_DIR/provision"
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
kubeconfig="$(bash "$STACK_DIR/kind/cluster.sh" create --name "$NAME" ${WORKERS:+--workers "$WORKERS"})"
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
sets=(--set "operator.image.repository=${app[operator]%:*}" --set "operator.image.tag=${app[operator]##*:}")
for s in auth user notification order inventory payment saga; do
  sets+=(--set "stack.spec.services.$s.image=${app[$s]}")
done
sets+=(--set "stack.spec.edge.image=${app[edge]}")
bash "$STACK_DIR/kind/install.sh" --kubeconfig "$kubeconfig" --namespace "$NAMESPACE" --kind-name "$NAME" \
  --values "$REPO_DIR/charts/ecom-micro/examples/kind-values.yaml" "${sets[@]}" --timeout "$TIMEOUT"
trap - EXIT
step "ready: kind cluster '$NAME', kubeconfig $kubeconfig"
printf '%s\n' "$kubeconfig"
