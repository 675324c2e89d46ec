#!/usr/bin/env bash
# Dapr built from Go modules: the runtime (daprd, placement, scheduler), its
# Kubernetes control plane (operator, injector, sentry), and the Dapr CLI.
# A wrapper module pins github.com/dapr/dapr, copies its replace directives, and
# builds dapr's own cmd/<binary>; daprd gets a narrowed component registry (see
# stack/dapr-build/registry.go); each binary's cache is keyed on what it is built from.
#
# Usage: dapr.sh [all|runtime|cli|control-plane]   (default: all = runtime + cli)
#   runtime        daprd, placement, scheduler, sentry for the local stack (binaries in ~/.dapr/bin win)
#   cli            the Dapr CLI
#   control-plane  all six binaries of Dapr's images in the cache, always built here
#                  (daprd placement scheduler operator injector sentry; see dapr-images.sh)
# Cold build on 2 cores: daprd ~2.5 min, each of the others ~1–2 min; warm ~1 s.
source "$(dirname "$0")/lib.sh"
PART=dapr

FLAVOUR=slim; [ "${ECOM_DAPR_ALLCOMPONENTS:-}" = 1 ] && FLAVOUR=all
OUT="$ECOM_CACHE/dapr-$DAPR_VERSION-$FLAVOUR"
CLI_OUT="$ECOM_CACHE/dapr-cli-$DAPR_CLI_VERSION"
REGISTRY="$STACK_DIR/dapr-build/registry.go"
# Fixes applied to dapr's source before daprd is built (see the file).
OUTBOX_PATCH="$STACK_DIR/dapr-build/outbox-fixes.sed"
# PostgreSQL state store v1's transactions in one round trip (see the file); the components-contrib
# it patches is the version dapr requires.
PG_BATCH="$STACK_DIR/dapr-build/pg-multi-batch.go"
# How the outbox's handler settles a marker it does not find (see the file and outbox-fixes.sed).
OUTBOX_SETTLE="$STACK_DIR/dapr-build/outbox-settle.go"
TAGS=""; [ "$FLAVOUR" = all ] && TAGS="allcomponents"
# Dapr's release ldflags (its Makefile's DEFAULT_LDFLAGS): the version the binaries report and log.
LDFLAGS="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_VERSION -X github.com/dapr/dapr/pkg/buildinfo.gitversion=v$DAPR_VERSION -X github.com/dapr/dapr/pkg/buildinfo.gitcommit=go-module-v$DAPR_VERSION -X github.com/dapr/kit/logger.DaprVersion=$DAPR_VERSION"
# Builds share two cores with everything else on the machine.
NICE=(nice -n "${ECOM_BUILD_NICE:-10}")

# replace_lines "MOD=VER MOD=VER": go.mod replace directives for module versions
# the proxy here does not serve (see stack/versions.env).
replace_lines() {
  local pair
  for pair in $1; do echo "replace ${pair%%=*} => ${pair%%=*} ${pair#*=}"; done
}

# key CMD: what a binary is built from: tags, ldflags and, for daprd, its patches and registry.go. Kept in a stamp
# next to the binary (.CMD.key), so the binary keeps the path the stack CLI reads ($OUT/bin/daprd)
# and an edit of registry.go, outbox-fixes.sed, outbox-settle.go or pg-multi-batch.go rebuilds daprd.
key() {
  {
    echo "$TAGS $LDFLAGS"
    if [ "$1" = daprd ]; then cat "$OUTBOX_PATCH" "$OUTBOX_SETTLE" "$PG_BATCH"; fi
    if [ "$1" = daprd ] && [ "$FLAVOUR" = slim ]; then cat "$REGISTRY"; fi
  } | sha256sum | cut -c1-16
}
fresh() { [ -x "$OUT/bin/$1" ] && [ "$(cat "$OUT/bin/.$1.key" 2>/dev/null)" = "$(key "$1")" ]; }

# module_dir DIR MOD@VERSION: the module's folder in Go's module cache, fetched from the proxy when
# missing (asked from DIR).
module_dir() {
  local dir
  dir="$(cd "$1" && GOFLAGS=-mod=mod go mod download -json "$2" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir" ] || fail "could not download $2" "check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"
  echo "$dir"
}

# module_copy DIR MOD@VERSION DEST: a writable copy of the module in DEST, to patch before a build
# (Go refuses overlays of files in the module cache).
module_copy() {
  local dir
  dir="$(module_dir "$1" "$2")"
  rm -rf "$3"
  cp -r "$dir" "$3"
  chmod -R u+w "$3"
}

# The wrapper module in $OUT/src: dapr's own requirements and replace
# directives, so the build resolves exactly the versions dapr was released with.
prepare_wrapper() {
  need go "install Go 1.26+ (apt-get install golang or https://go.dev/dl)"
  local src="$OUT/src"
  mkdir -p "$src" "$OUT/bin"
  say "fetching github.com/dapr/dapr@v$DAPR_VERSION from the Go module proxy"
  # The build uses a copy of dapr's module: patched (the outbox fixes), and for the slim flavour
  # with the untagged registry file swapped.
  module_copy "$src" "github.com/dapr/dapr@v$DAPR_VERSION" "$src/dapr"
  local dapr_dir="$src/dapr"
  {
    echo "module ecom-micro/dapr-build"
    echo
    sed -n 's/^go \(.*\)$/go \1/p' "$dapr_dir/go.mod"
    echo
    echo "require github.com/dapr/dapr v$DAPR_VERSION"
    echo
    awk '/^replace \(/{on=1} on{print} on&&/^\)/{on=0; print ""}' "$dapr_dir/go.mod"
    replace_lines "${DAPR_REPLACE:-}"
  } >"$src/go.mod"
  cp "$dapr_dir/go.sum" "$src/go.sum"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for cmd in daprd placement scheduler operator injector sentry; do printf '\t_ "github.com/dapr/dapr/cmd/%s"\n' "$cmd"; done
    printf ')\n'
  } >"$src/tools.go"
  local outbox="$src/dapr/pkg/runtime/pubsub/outbox.go"
  sed -i -f "$OUTBOX_PATCH" "$outbox"
  [ "$(grep -c 'Stop: *backoff.Stop,' "$outbox")" = 1 ] \
    && [ "$(grep -c 'outboxDiscardWhenMissingState && ctx.Err() == nil && strings.HasSuffix' "$outbox")" = 1 ] \
    && [ "$(grep -cE 'defaultStateScanDelay +=  *time.Millisecond \* 100$' "$outbox")" = 1 ] \
    && [ "$(grep -c 'Options: state.SetStateOption{Concurrency: state.FirstWrite},' "$outbox")" = 1 ] \
    && [ "$(grep -c 'lookups := 0' "$outbox")" = 1 ] \
    && [ "$(grep -c '&& !isOutboxTombstone(resp.Data) {' "$outbox")" = 1 ] \
    && [ "$(grep -c 'return settleOutboxState(ctx, store, stateKey, lookups, ' "$outbox")" = 1 ] \
    || fail "the outbox fixes no longer apply to dapr v$DAPR_VERSION" "review $OUTBOX_PATCH against $outbox"
  cp "$OUTBOX_SETTLE" "$src/dapr/pkg/runtime/pubsub/zz_outbox_settle.go"
  if [ "$FLAVOUR" = slim ]; then cp "$REGISTRY" "$src/dapr/cmd/daprd/components/zz_notag.go"; fi
  # components-contrib, copied the same way: its PostgreSQL v1 Multi renamed, the batched one added.
  local contrib_version
  contrib_version="$(sed -n 's/^\s*github.com\/dapr\/components-contrib \(v[^ ]*\)$/\1/p' "$dapr_dir/go.mod")"
  module_copy "$src" "github.com/dapr/components-contrib@$contrib_version" "$src/components-contrib"
  local pgv1="$src/components-contrib/common/component/postgresql/v1"
  sed -i 's/^func (p \*PostgreSQL) Multi(/func (p *PostgreSQL) multiOneByOne(/' "$pgv1/postgresql.go"
  [ "$(grep -c '^func (p \*PostgreSQL) multiOneByOne(' "$pgv1/postgresql.go")" = 1 ] \
    || fail "the PostgreSQL batch no longer applies to components-contrib $contrib_version" "review $PG_BATCH against $pgv1/postgresql.go"
  cp "$PG_BATCH" "$pgv1/zz_multi_batch.go"
  printf '\nreplace github.com/dapr/dapr => ./dapr\n' >>"$src/go.mod"
  printf 'replace github.com/dapr/components-contrib => ./components-contrib\n' >>"$src/go.mod"
  (cd "$src" && GOFLAGS=-mod=mod go get "github.com/dapr/dapr@v$DAPR_VERSION" >/dev/null 2>&1 || true)
}

# build CMD...: builds each of dapr's cmd/<CMD> that is not fresh in $OUT/bin.
build() {
  local missing=() cmd
  for cmd in "$@"; do fresh "$cmd" || missing+=("$cmd"); done
  if [ ${#missing[@]} -eq 0 ]; then say "cached: $OUT/bin ($*)"; return; fi
  prepare_wrapper
  for cmd in "${missing[@]}"; do
    say "building $cmd v$DAPR_VERSION ($FLAVOUR; a first build takes minutes on 2 cores)"
    (cd "$OUT/src" && run_logged "$OUT/build-$cmd.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
      go build -trimpath -tags "$TAGS" -ldflags "$LDFLAGS" -o "$OUT/bin/$cmd.tmp" "github.com/dapr/dapr/cmd/$cmd")
    mv "$OUT/bin/$cmd.tmp" "$OUT/bin/$cmd"
    key "$cmd" >"$OUT/bin/.$cmd.key"
  done
}

build_runtime() {
  if [ -x "$HOME/.dapr/bin/daprd" ] && [ -x "$HOME/.dapr/bin/placement" ] && [ -x "$HOME/.dapr/bin/scheduler" ] \
    && [ -x "$HOME/.dapr/bin/sentry" ]; then
    say "using binaries in ~/.dapr/bin"; return
  fi
  # sentry: the local stack's certificate authority (mTLS between sidecars, access-control identities).
  build placement scheduler daprd sentry
}

build_control_plane() { build placement scheduler daprd operator injector sentry; }

build_cli() {
  if [ -x "$HOME/.dapr/bin/dapr" ] || [ -x "$CLI_OUT/bin/dapr" ]; then return; fi
  need go "install Go 1.26+"
  say "building the Dapr CLI v$DAPR_CLI_VERSION"
  local src="$CLI_OUT/src"
  mkdir -p "$src" "$CLI_OUT/bin"
  # `go install mod@version` asks the proxy for the module's version list, which
  # the proxy here refuses; a wrapper module building the same package does not.
  local cli_dir
  cli_dir="$(module_dir "$src" "github.com/dapr/cli@v$DAPR_CLI_VERSION")"
  {
    printf 'module ecom-micro/dapr-cli-build\n\ngo 1.24\n\nrequire github.com/dapr/cli v%s\n\n' "$DAPR_CLI_VERSION"
    replace_lines "${DAPR_CLI_REPLACE:-}"
  } >"$src/go.mod"
  cp "$cli_dir/go.sum" "$src/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/dapr/cli"\n' >"$src/tools.go"
  (cd "$src" && run_logged "$CLI_OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w -X main.version=$DAPR_CLI_VERSION -X main.apiVersion=1.0" -o "$CLI_OUT/bin/dapr.tmp" github.com/dapr/cli)
  mv "$CLI_OUT/bin/dapr.tmp" "$CLI_OUT/bin/dapr"
}

case "${1:-all}" in
  all)
    with_lock "dapr-$DAPR_VERSION" build_runtime
    with_lock "dapr-cli-$DAPR_CLI_VERSION" build_cli ;;
  runtime) with_lock "dapr-$DAPR_VERSION" build_runtime ;;
  cli) with_lock "dapr-cli-$DAPR_CLI_VERSION" build_cli ;;
  control-plane) with_lock "dapr-$DAPR_VERSION" build_control_plane ;;
  *) fail "unknown target '$1'" "use one of: all runtime cli control-plane" ;;
esac
