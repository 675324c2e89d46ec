#!/usr/bin/env bash
# Proves a kind cluster made by cluster.sh does what the project needs, in namespace ecom-smoke
# (deleted before and after; ECOM_KEEP_SMOKE=1 keeps it):
#   1. a PVC of the default StorageClass is bound and written by a pod (then read back by another);
#   2. an image built here and loaded with `kind load docker-image` (imagePullPolicy: Never) runs as
#      a Deployment, and another pod reaches it through its Service by cluster DNS.
# Usage: smoke.sh [--name ecom]
source "$(cd "$(dirname "$0")/.." && pwd)/provision/lib.sh"
PART=kind-smoke
NAME=ecom
case "${1:-}" in --name) NAME="${2:?}" ;; --name=*) NAME="${1#--name=}" ;; "") ;; *) fail "unknown option '$1'" "usage: smoke.sh [--name ecom]" ;; esac

KUBECONFIG_FILE="$ECOM_CACHE/kind/$NAME.kubeconfig"
KUBECTL="$ECOM_CACHE/kube-$KUBERNETES_VERSION/bin/kubectl"
[ -s "$KUBECONFIG_FILE" ] || fail "no kubeconfig for cluster $NAME" "create it: bash stack/kind/cluster.sh create --name $NAME"
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" -n ecom-smoke "$@"; }
NS=ecom-smoke
WEB_IMAGE=ecom-micro/kind-smoke-web:v1
# BusyBox (sh, cat) is already in every node: the local-path helper image.
TOOLS_IMAGE="ecom-micro/local-path-helper:$(cat "$ECOM_CACHE/busybox-static-$DEBIAN_SUITE/version")"
start=$SECONDS

cleanup() {
  [ "${ECOM_KEEP_SMOKE:-}" = 1 ] || "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}
"$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
trap cleanup EXIT

say "building $WEB_IMAGE (Node.js HTTP server on the local node base image)"
printf '%s\n' "FROM node:${NODE_VERSION%.*}-$DEBIAN_SUITE-slim" \
  'CMD ["node", "-e", "require(\"http\").createServer((q, r) => r.end(\"hello from \" + require(\"os\").hostname() + \"\\n\")).listen(8080)"]' \
  | DOCKER_BUILDKIT=0 docker build -q -t "$WEB_IMAGE" - >"$ECOM_CACHE/kind/smoke-build.log" 2>&1 \
  || { cat "$ECOM_CACHE/kind/smoke-build.log" >&2; fail "docker build of $WEB_IMAGE failed" "see the output above"; }
say "kind load docker-image $WEB_IMAGE ($((SECONDS - start)) s)"
bash "$STACK_DIR/kind/cluster.sh" load --name "$NAME" "$WEB_IMAGE" 2>&1 | sed 's/^/  /' >&2
say "loaded ($((SECONDS - start)) s)"

"$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" create namespace "$NS" >/dev/null
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  containers:
    - name: writer
      image: $TOOLS_IMAGE
      imagePullPolicy: Never
      command: [sh, -c, 'echo "written at \$(date)" > /data/proof && cat /data/proof']
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: $WEB_IMAGE
          imagePullPolicy: Never
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF

# wait_for WHAT SECONDS COMMAND...: retries COMMAND until it succeeds.
wait_for() {
  local what="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { kc get pods,pvc -o wide >&2; kc get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2; fail "$what within $limit s" "see the objects and events above"; }
    sleep 1
  done
  say "ok: $what ($((SECONDS - start)) s)"
}
# pod_succeeded NAME: true once the pod has Succeeded; a Failed pod stops the test with its log.
pod_succeeded() {
  local phase; phase="$(kc get pod "$1" -o jsonpath='{.status.phase}')"
  if [ "$phase" = Failed ]; then
    kc logs "$1" >&2 || true
    fail "pod $1 failed" "see its log above"
  fi
  [ "$phase" = Succeeded ]
}
pvc_bound() { [ "$(kc get pvc data -o jsonpath='{.status.phase}')" = Bound ]; }

wait_for "PVC bound by the default StorageClass ($(kc get pvc data -o jsonpath='{.spec.storageClassName}'))" 120 pvc_bound
wait_for "writer pod wrote to the volume" 120 pod_succeeded writer
written="$(kc logs writer)"
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
    - name: reader
      image: $TOOLS_IMAGE
      imagePullPolicy: Never
      command: [cat, /data/proof]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
EOF
wait_for "reader pod ran" 60 pod_succeeded reader
[ "$(kc logs reader)" = "$written" ] || fail "the reader saw '$(kc logs reader)', not '$written'" "check the local-path volume"
say "ok: a second pod read back '$written' from the volume"

wait_for "Deployment web (loaded image, imagePullPolicy Never) available" 120 \
  kc wait deploy/web --for=condition=Available --timeout=2s
# The client is Node.js too (BusyBox's static wget crashes resolving names without NSS libraries).
kc run client --image "$WEB_IMAGE" --image-pull-policy Never --restart Never --command -- node -e '
  require("http").get("http://web.ecom-smoke.svc.cluster.local/", { timeout: 5000 }, (res) => {
    let body = ""; res.on("data", (d) => (body += d));
    res.on("end", () => { process.stdout.write(body); process.exit(res.statusCode === 200 ? 0 : 1); });
  }).on("error", (e) => { console.error(e.message); process.exit(1); });' >/dev/null
wait_for "client pod called the Service by DNS" 60 pod_succeeded client
reply="$(kc logs client | tail -n 1)"
[[ "$reply" == "hello from web-"* ]] || fail "unexpected reply from the web Service: '$reply'" "kubectl -n $NS logs client"
say "ok: http://web.ecom-smoke.svc.cluster.local answered '$reply'"
say "smoke test passed in $((SECONDS - start)) s"
