#!/usr/bin/env bash
# The MongoDB wire protocol: a real mongod on PATH wins, else FerretDB v1 built
# from Go modules (PostgreSQL backend, telemetry off at run time).
source "$(dirname "$0")/lib.sh"
PART=ferretdb
OUT="$ECOM_CACHE/ferretdb-$FERRETDB_VERSION"
# Our fix to FerretDB's SQL pushdown, applied before the build (see the file).
PATCH="$STACK_DIR/ferretdb-build/id-pushdown.sed"
# What the binary is built from beyond the version: kept in a stamp beside it, so the binary keeps the
# path the stack CLI reads and an edit of the patch rebuilds it.
key() { sha256sum <"$PATCH" | cut -c1-16; }
provision() {
  if command -v mongod >/dev/null 2>&1; then say "using mongod at $(command -v mongod)"; return; fi
  if [ -x "$OUT/bin/ferretdb" ] && [ "$(cat "$OUT/bin/.ferretdb.key" 2>/dev/null)" = "$(key)" ]; then
    say "cached: $OUT/bin/ferretdb"
    return
  fi
  need go "install Go 1.26+"
  local src="$OUT/src"
  mkdir -p "$src" "$OUT/bin"
  local dir
  dir="$(cd "$src" && go mod download -json "github.com/FerretDB/FerretDB@v$FERRETDB_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir" ] || fail "could not download FerretDB v$FERRETDB_VERSION" "check that the Go module proxy is reachable"
  # FerretDB embeds its version from build/version/version.txt, which its
  # release process generates and the module zip lacks: build a copy with it.
  rm -rf "$src/ferretdb" && cp -r "$dir" "$src/ferretdb" && chmod -R u+w "$src/ferretdb"
  printf 'v%s\n' "$FERRETDB_VERSION" >"$src/ferretdb/build/version/version.txt"
  local query="$src/ferretdb/internal/backends/postgresql/query.go"
  sed -i -f "$PATCH" "$query"
  grep -q "%s->'_id' = %s" "$query" || fail "the _id pushdown fix did not apply to FerretDB v$FERRETDB_VERSION's query.go" \
    "update stack/ferretdb-build/id-pushdown.sed for this FerretDB version"
  printf 'module ecom-micro/ferretdb-build\n\ngo 1.24\n\nrequire github.com/FerretDB/FerretDB v%s\n\nreplace github.com/FerretDB/FerretDB => ./ferretdb\n' "$FERRETDB_VERSION" >"$src/go.mod"
  cp "$dir/go.sum" "$src/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n' >"$src/tools.go"
  say "building FerretDB v$FERRETDB_VERSION (about 2 minutes on 2 cores)"
  (cd "$src" && run_logged "$OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -tags ferretdb_no_tigris -ldflags "-s -w" -o "$OUT/bin/ferretdb.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb)
  mv "$OUT/bin/ferretdb.tmp" "$OUT/bin/ferretdb"
  key >"$OUT/bin/.ferretdb.key"
}
with_lock "ferretdb-$FERRETDB_VERSION" provision
