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
for part in postgres redis kafka ferretdb dapr; do
  bash "$STACK_DIR/provision/$part.sh"
done
if [ -f "$STACK_DIR/provision/kube.sh" ] && [ "${ECOM_SKIP_KUBE:-}" != 1 ]; then
  bash "$STACK_DIR/provision/kube.sh"
fi
say "everything provisioned ($((SECONDS - start)) s)"
