#!/usr/bin/env bash
# Provisions every part of the local stack that is missing; a no-op when all is cached.
# First run on a fresh 2-core machine: see README for measured times.
source "$(dirname "$0")/lib.sh"
PART=stack
start=$SECONDS
need node "install Node.js 20.19+"
if [ ! -d "$REPO_DIR/node_modules" ]; then
  say "npm install"
  (cd "$REPO_DIR" && npm install --no-fund --no-audit >/dev/null) || fail "npm install failed" "run 'npm install' to see why"
fi
for part in node postgres redis kafka ferretdb dapr; do
  bash "$STACK_DIR/provision/$part.sh"
done
if [ "${ECOM_SKIP_KUBE:-}" != 1 ]; then
  # The Kubernetes path: the operator's API-server tooling, then what the kind cluster runs (the
  # project's own images are built from the checkout by stack/kind/up.sh).
  bash "$STACK_DIR/provision/kube.sh"
  bash "$STACK_DIR/provision/docker.sh" all
  bash "$STACK_DIR/provision/kind.sh" all
  bash "$STACK_DIR/provision/dapr-images.sh" build
  bash "$STACK_DIR/provision/infra-images.sh" all
fi
say "everything provisioned ($((SECONDS - start)) s)"
