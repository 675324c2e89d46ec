#!/usr/bin/env bash
# The `kubectl apply` path: one file with everything but the EcomStack, rendered from the chart
# (`helm template --include-crds`, stack.enabled=false): the EcomStack CRD, the namespaces, the
# operator's ServiceAccount, its least-privilege RBAC and its Deployment. Then one EcomStack:
#
#   npm run manifest [-- --namespace ecom] [--out FILE] [--values FILE]... [--set KEY=VALUE]...
#   kubectl apply --server-side -f dist/ecom-micro.yaml
#   kubectl wait --for condition=established crd/ecomstacks.ecom-micro.io
#   kubectl apply -n ecom -f operator/examples/ecomstack.yaml
#
# --values and --set take the chart's values (operator.image.*, operator.watchNamespaces, ...). The
# file installs no Dapr: the cluster needs Dapr's control plane first (stack/kind/dapr.sh, or
# `dapr init -k`). Writes FILE (default dist/ecom-micro.yaml, outside git) and prints its path.
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=manifest

NAMESPACE=ecom
OUT="$REPO_DIR/dist/ecom-micro.yaml"
args=()
usage() { fail "$1" "usage: manifest.sh [--namespace NS] [--out FILE] [--values FILE]... [--set KEY=VALUE]..."; }
while (($#)); do
  case "$1" in
    --namespace) NAMESPACE="${2:-}"; shift 2 || usage "--namespace needs a value" ;;
    --out) OUT="${2:-}"; shift 2 || usage "--out needs a value" ;;
    --values)
      [ -f "${2:-}" ] || usage "no values file '${2:-}'"
      args+=(-f "$2"); shift 2 ;;
    --set) [ -n "${2:-}" ] || usage "--set needs KEY=VALUE"; args+=(--set "$2"); shift 2 ;;
    *) usage "unknown argument '$1'" ;;
  esac
done
[ -n "$NAMESPACE" ] && [ -n "$OUT" ] || usage "--namespace and --out need a value"

HELM="$ECOM_CACHE/helm-$HELM_VERSION/bin/helm"
[ -x "$HELM" ] || bash "$STACK_DIR/provision/kube.sh" helm
mkdir -p "$(dirname "$OUT")"
# The EcomStack stays out whatever the values say; the namespaces come in, as nothing else creates them.
log="$ECOM_CACHE/manifest-helm.log"
rendered="$("$HELM" template ecom "$REPO_DIR/charts/ecom-micro" --namespace "$NAMESPACE" --include-crds \
  "${args[@]}" --set stack.enabled=false --set namespace.create=true 2>"$log")" \
  || fail "helm template failed: $(grep -m1 -i 'error' "$log" | cut -c1-200)" "check the --values and --set given (log: $log)"
{
  printf '# ecom-micro %s for namespace %s: the EcomStack CRD, the namespaces, the operator and its RBAC.\n' \
    "$(sed -n 's/^appVersion: *//p' "$REPO_DIR/charts/ecom-micro/Chart.yaml" | tr -d "'\"")" "$NAMESPACE"
  printf '# Rendered by `npm run manifest` (stack/kind/manifest.sh) from charts/ecom-micro. Apply it, then an EcomStack:\n'
  printf '#   kubectl apply --server-side -f %s\n' "$(basename "$OUT")"
  printf '#   kubectl wait --for condition=established crd/ecomstacks.ecom-micro.io\n'
  printf '#   kubectl apply -n %s -f operator/examples/ecomstack.yaml\n' "$NAMESPACE"
  printf "# The cluster needs Dapr's control plane (stack/kind/dapr.sh, or dapr init -k).\n"
  printf '%s\n' "$rendered"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "wrote $OUT ($(grep -c '^kind: ' "$OUT") objects)"
printf '%s\n' "$OUT"
