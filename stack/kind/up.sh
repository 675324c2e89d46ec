#!/usr/bin/env bash
# The whole system in a local kind cluster, from nothing: `npm run kind:up` (and `npm run kind:down`).
#
#   up.sh [--name ecom] [--workers N] [--registry]
#                           1. a Docker engine (started by hand when none answers) and the base images
#                           2. every image: kind's node, Dapr's runtime and control plane, Kafka,
#                              PostgreSQL, Redis, FerretDB, the operator, the seven services and
#                              the public edge
#                           3. the kind cluster, with those images loaded into it
#                           4. stack/kind/install.sh (what `npm run kube:install` runs on any
#                              cluster): Dapr's control plane (its own Helm chart), then this
#                              project's chart: the CRD, the operator, and one EcomStack whose apps
#                              run the images just built; waits until the EcomStack reports Ready
#   --registry serves every image from a registry instead of loading it into the nodes: a local one
#   (stack/provision/registry.sh, on port 15500) that each node pulls localhost:15500/... from. It is
#   the path of any other cluster (kube:install --dapr-registry, images named by registry), run here.
#   --workers N (or ECOM_KIND_WORKERS=N) makes the cluster one control-plane node and N workers, the
#   apps' pods spread over the workers (a new cluster only: delete one of another shape first)
#   up.sh --down [--name ecom]   deletes the cluster (and stops a registry and a dockerd up.sh started)
#
# Idempotent: everything is cached by version ($ECOM_CACHE), a healthy cluster is reused, and a second
# run only rolls what changed. A run that fails after creating the cluster deletes it again: a
# cluster is either whole or absent. Prints the kubeconfig path and how to call the shop at the end.
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kind-up

NAME=ecom
NAMESPACE="${ECOM_KIND_NAMESPACE:-ecom}"
DOWN=0
REGISTRY=0
WORKERS="${ECOM_KIND_WORKERS:-}"
while (($#)); do
  case "$1" in
    --name) NAME="${2:?--name needs a value}"; shift 2 ;;
    --down) DOWN=1; shift ;;
    --workers) WORKERS="${2:?--workers needs a value}"; shift 2 ;;
    --registry) REGISTRY=1; shift ;;
    *) fail "unknown argument '$1'" "usage: up.sh [--name NAME] [--workers N] [--registry] [--down]" ;;
  esac
done
PROVISION="$STACK_DIR/provision"
TIMEOUT="${ECOM_KIND_STACK_TIMEOUT:-900}"

if ((DOWN)); then
  bash "$STACK_DIR/kind/cluster.sh" delete --name "$NAME"
  # The local registry, once no kind cluster is left to pull from it.
  [ -n "$(docker ps -q --filter label=io.x-k8s.kind.cluster 2>/dev/null)" ] || bash "$PROVISION/registry.sh" stop
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
sets=() where=(--kind-name "$NAME")
if ((REGISTRY)); then
  step "pushing every image to the local registry (the nodes pull them from it)"
  registry="$(bash "$PROVISION/registry.sh" start)"
  for key in "${!app[@]}"; do app[$key]="$(bash "$PROVISION/registry.sh" push ecom-micro "${app[$key]}")"; done
  # The managed backends' images, by the backend that runs each (FerretDB is the managed MongoDB).
  declare -A backend=([kafka]=kafka [postgres]=postgres [redis]=redis [ferretdb]=mongodb)
  for image in "${infra[@]}"; do
    name="${image##*/}"
    pushed="$(bash "$PROVISION/registry.sh" push ecom-micro "$image")"
    sets+=(--set "stack.spec.infrastructure.${backend[${name%%:*}]}.managed.image=$pushed")
  done
  # Dapr's chart composes <registry>/<name>:<version>: each built image is pushed under that name.
  while read -r name image; do
    docker tag "$image" "dapr/$name:$DAPR_VERSION"
    bash "$PROVISION/registry.sh" push dapr "dapr/$name:$DAPR_VERSION" >/dev/null
  done < <(bash "$PROVISION/dapr-images.sh" list)
  mapfile -t nodes < <(docker ps --filter "label=io.x-k8s.kind.cluster=$NAME" --format '{{.Names}}')
  bash "$PROVISION/registry.sh" connect "${nodes[@]}"
  where=(--dapr-registry "$registry/dapr")
else
  bash "$STACK_DIR/kind/cluster.sh" load --name "$NAME" "${app[@]}" "${infra[@]}"
fi

step "4/4 Dapr control plane, the chart and an EcomStack in namespace $NAMESPACE"
sets+=(--set "operator.image.repository=${app[operator]%:*}" --set "operator.image.tag=${app[operator]##*:}")
for s in auth user notification order inventory payment saga; do
  sets+=(--set "stack.spec.services.$s.image=${app[$s]}")
done
sets+=(--set "stack.spec.edge.image=${app[edge]}")
bash "$STACK_DIR/kind/install.sh" --kubeconfig "$kubeconfig" --namespace "$NAMESPACE" "${where[@]}" \
  --values "$REPO_DIR/charts/ecom-micro/examples/kind-values.yaml" "${sets[@]}" --timeout "$TIMEOUT"
trap - EXIT
step "ready: kind cluster '$NAME', kubeconfig $kubeconfig"
printf '%s\n' "$kubeconfig"
