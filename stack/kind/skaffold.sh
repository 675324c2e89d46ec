#!/usr/bin/env bash
# skaffold on the kind cluster of `npm run kind:up`, with the tools this project builds from Go modules:
#
#   npm run skaffold -- run       build what changed, load it into kind, deploy the chart, wait for Ready
#   npm run skaffold -- dev       the same, then rebuild and redeploy on every saved edit; Ctrl-C removes
#                                 what it deployed
#   npm run skaffold -- delete    removes what `run` deployed (the helm release `ecom`, so the operator,
#                                 the EcomStack and, through its owner references, every child)
#   (any other skaffold command and flag passes through: npm run skaffold -- build --dry-run)
#
# What it adds to a bare `skaffold <command> -p kind`: skaffold itself when missing (built from its Go
# module, stack/provision/kube.sh skaffold), kind, helm and kubectl of $ECOM_CACHE first on PATH (skaffold
# runs `kind load docker-image` and `helm`), KUBECONFIG of the cluster (cluster.sh never touches
# ~/.kube/config), and a global skaffold config of its own with the update check and usage metrics off.
# Run it from the checkout whose sources should be built: skaffold reads ./skaffold.yaml.
# Environment: ECOM_KIND_NAME (default ecom; the profile deploys to the context kind-ecom).
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=skaffold

NAME="${ECOM_KIND_NAME:-ecom}"
(($#)) || fail "no skaffold command given" "usage: npm run skaffold -- run|dev|delete [skaffold flags]"
SKAFFOLD="$ECOM_CACHE/skaffold-$SKAFFOLD_VERSION/bin/skaffold"
[ -x "$SKAFFOLD" ] || bash "$STACK_DIR/provision/kube.sh" skaffold
kubeconfig="$(bash "$STACK_DIR/kind/cluster.sh" kubeconfig --name "$NAME")"
bash "$STACK_DIR/kind/cluster.sh" status --name "$NAME" >/dev/null 2>&1 \
  || fail "the kind cluster '$NAME' is not running" "run: npm run kind:up"
docker info >/dev/null 2>&1 || fail "no Docker engine answers" "run: bash stack/provision/docker.sh engine"

config="$ECOM_CACHE/kind/skaffold-config.yaml"
if [ ! -s "$config" ]; then
  "$SKAFFOLD" config set --config "$config" --global collect-metrics false >/dev/null
  "$SKAFFOLD" config set --config "$config" --global update-check false >/dev/null
fi

export PATH="$ECOM_CACHE/kind-$KIND_VERSION/bin:$ECOM_CACHE/helm-$HELM_VERSION/bin:$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin:$PATH"
export KUBECONFIG="$kubeconfig"
command=("$1"); shift
case "${command[0]}" in
  run | dev | delete | build | deploy | render | diagnose) command+=(-p kind --config "$config") ;;
esac
exec "$SKAFFOLD" "${command[@]}" "$@"
