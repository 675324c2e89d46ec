#!/usr/bin/env bash
# Dapr runtime (daprd, placement, scheduler) built from Go modules, and the Dapr CLI.
# daprd: a wrapper module pins github.com/dapr/dapr, copies its replace
# directives, and builds dapr's own cmd/daprd with a narrowed component registry
# (see stack/dapr-build/registry.go). Binaries already in ~/.dapr/bin win.
source "$(dirname "$0")/lib.sh"
PART=dapr


FLAVOUR=slim; [ "${ECOM_DAPR_ALLCOMPONENTS:-}" = 1 ] && FLAVOUR=all
OUT="$ECOM_CACHE/dapr-$DAPR_VERSION-$FLAVOUR"
CLI_OUT="$ECOM_CACHE/dapr-cli-$DAPR_CLI_VERSION"

# replace_lines "MOD=VER MOD=VER": go.mod replace directives for module versions
# the proxy here does not serve (see stack/versions.env).
replace_lines() {
  local pair
  for pair in $1; do echo "replace ${pair%%=*} => ${pair%%=*} ${pair#*=}"; done
}

build_runtime() {
  if [ -x "$HOME/.dapr/bin/daprd" ] && [ -x "$HOME/.dapr/bin/placement" ] && [ -x "$HOME/.dapr/bin/scheduler" ]; then
    say "using binaries in ~/.dapr/bin"; return
  fi
  if [ -x "$OUT/bin/daprd" ] && [ -x "$OUT/bin/placement" ] && [ -x "$OUT/bin/scheduler" ]; then
    say "cached: $OUT/bin"; return
  fi
  need go "install Go 1.26+ (apt-get install golang or https://go.dev/dl)"
  local src="$OUT/src"
  mkdir -p "$src" "$OUT/bin"
  say "fetching github.com/dapr/dapr@v$DAPR_VERSION from the Go module proxy"
  local dapr_dir
  dapr_dir="$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "github.com/dapr/dapr@v$DAPR_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dapr_dir" ] || fail "could not download dapr v$DAPR_VERSION" "check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"

  # The wrapper module: dapr's own requirements and replace directives, so the
  # build resolves exactly the versions dapr was released with.
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
  cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/dapr/dapr/cmd/daprd"
	_ "github.com/dapr/dapr/cmd/placement"
	_ "github.com/dapr/dapr/cmd/scheduler"
)
GO
  local tags=""
  if [ "$FLAVOUR" = slim ]; then
    # Go refuses overlays of files in the module cache, so the slim build uses a
    # copy of dapr's module in which the untagged registry file is swapped.
    rm -rf "$src/dapr"
    cp -r "$dapr_dir" "$src/dapr"
    chmod -R u+w "$src/dapr"
    cp "$STACK_DIR/dapr-build/registry.go" "$src/dapr/cmd/daprd/components/zz_notag.go"
    printf '\nreplace github.com/dapr/dapr => ./dapr\n' >>"$src/go.mod"
  else
    tags="allcomponents"
  fi
  local ldflags="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_VERSION -X github.com/dapr/dapr/pkg/buildinfo.gitversion=v$DAPR_VERSION -X github.com/dapr/dapr/pkg/buildinfo.gitcommit=go-module-v$DAPR_VERSION"
  (cd "$src" && GOFLAGS=-mod=mod go get "github.com/dapr/dapr@v$DAPR_VERSION" >/dev/null 2>&1 || true)
  for cmd in placement scheduler daprd; do
    say "building $cmd v$DAPR_VERSION ($FLAVOUR; the first daprd build takes several minutes on 2 cores)"
    (cd "$src" && run_logged "$OUT/build-$cmd.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
      go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$OUT/bin/$cmd.tmp" "github.com/dapr/dapr/cmd/$cmd")
    mv "$OUT/bin/$cmd.tmp" "$OUT/bin/$cmd"
  done
}

build_cli() {
  if [ -x "$HOME/.dapr/bin/dapr" ] || [ -x "$CLI_OUT/bin/dapr" ]; then return; fi
  need go "install Go 1.26+"
  say "building the Dapr CLI v$DAPR_CLI_VERSION"
  local src="$CLI_OUT/src"
  mkdir -p "$src" "$CLI_OUT/bin"
  # `go install mod@version` asks the proxy for the module's version list, which
  # the proxy here refuses; a wrapper module building the same package does not.
  local cli_dir
  cli_dir="$(cd "$src" && go mod download -json "github.com/dapr/cli@v$DAPR_CLI_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$cli_dir" ] || fail "could not download the Dapr CLI v$DAPR_CLI_VERSION" "check that the Go module proxy is reachable"
  {
    printf 'module ecom-micro/dapr-cli-build\n\ngo 1.24\n\nrequire github.com/dapr/cli v%s\n\n' "$DAPR_CLI_VERSION"
    replace_lines "${DAPR_CLI_REPLACE:-}"
  } >"$src/go.mod"
  cp "$cli_dir/go.sum" "$src/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/dapr/cli"\n' >"$src/tools.go"
  (cd "$src" && run_logged "$CLI_OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "-s -w -X main.version=$DAPR_CLI_VERSION -X main.apiVersion=1.0" -o "$CLI_OUT/bin/dapr.tmp" github.com/dapr/cli)
  mv "$CLI_OUT/bin/dapr.tmp" "$CLI_OUT/bin/dapr"
}

with_lock "dapr-$DAPR_VERSION" build_runtime
with_lock "dapr-cli-$DAPR_CLI_VERSION" build_cli
