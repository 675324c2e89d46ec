#!/usr/bin/env bash
# The Kubernetes tooling of the operator's tests, built from Go modules: etcd,
# kube-apiserver, kube-controller-manager (for garbage collection), helm,
# skaffold, and a Dockerfile checker on BuildKit's parser. Also locates Dapr's
# own CRDs in the dapr Go module, so the API server can validate Dapr resources.
#
# Usage: kube.sh [all|etcd|kube|kubectl|node|helm|skaffold|dockerfile-lint|dapr-crds]   (default: all)
# `node` builds every binary of a kind node (kubelet, kubeadm, kubectl, the control plane, kube-proxy)
# for stack/provision/kind.sh; it is not part of `all`. `kubectl` alone is for stack/kind/install.sh.
# Cold build times on 2 cores: etcd ~1 min, kube-apiserver ~4.5, kube-controller-manager ~2, kubectl (not timed),
# helm ~2, skaffold ~3.5 (plus module downloads); later runs find them cached.
# Prints nothing on stdout except for `dapr-crds`, which prints the CRD folder.
source "$(dirname "$0")/lib.sh"
PART=kube

ETCD_OUT="$ECOM_CACHE/etcd-$ETCD_VERSION"
KUBE_OUT="$ECOM_CACHE/kube-$KUBERNETES_VERSION"
HELM_OUT="$ECOM_CACHE/helm-$HELM_VERSION"
# Pinned in stack/versions.env.
SKAFFOLD_VERSION="${SKAFFOLD_VERSION:-2.16.1}"
SKAFFOLD_OUT="$ECOM_CACHE/skaffold-$SKAFFOLD_VERSION"
# Builds share two cores with everything else on the machine.
NICE=(nice -n "${ECOM_BUILD_NICE:-10}")

# go_mod_dir MODULE@VERSION: the module's folder in the module cache (downloads it).
go_mod_dir() {
  local dir
  dir="$(GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir" ] || fail "could not download $1" "check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"
  printf '%s\n' "$dir"
}

build_etcd() {
  if [ -x "$ETCD_OUT/bin/etcd" ]; then say "cached: $ETCD_OUT/bin/etcd"; return; fi
  need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"
  local src="$ETCD_OUT/src" v="v$ETCD_VERSION"
  mkdir -p "$src" "$ETCD_OUT/bin"
  # `go install ...@version` refuses etcd's server module (its go.mod points its
  # siblings at ../ paths); from a wrapper those replaces are ignored and its
  # own requirements pin every sibling at the same release.
  printf 'module ecom-micro/etcd-build\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$v" >"$src/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$src/tools.go"
  say "building etcd $v"
  (cd "$src" && run_logged "$ETCD_OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w" -o "$ETCD_OUT/bin/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$ETCD_OUT/bin/etcd.tmp" "$ETCD_OUT/bin/etcd"
}

# Every Kubernetes command built here shares one wrapper module (and so one download of the
# dependencies): the operator's tests need the first three (kubectl applies the rendered manifest of
# `npm run manifest`), a kind node image (kind.sh) all of them.
KUBE_TEST_CMDS=(kube-apiserver kube-controller-manager kubectl)
KUBE_NODE_CMDS=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

# kube_wrapper: writes the wrapper module once (k8s.io/kubernetes cannot be `go install`ed).
kube_wrapper() {
  local src="$KUBE_OUT/src" v="v$KUBERNETES_VERSION" staging="v0.${KUBERNETES_VERSION#1.}"
  mkdir -p "$src" "$KUBE_OUT/bin"
  local tools
  tools="$(printf '//go:build tools\n\npackage tools\n\nimport (\n'; printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${KUBE_NODE_CMDS[@]}"; printf ')')"
  if [ -f "$src/go.mod" ] && [ "$(cat "$src/tools.go" 2>/dev/null)" = "$tools" ]; then return; fi
  local kdir
  kdir="$(cd "$src" && go_mod_dir "k8s.io/kubernetes@$v")"
  # k8s.io/kubernetes replaces its staging modules with ./staging paths, which a
  # dependent module cannot use: the wrapper pins each to its published release.
  {
    printf 'module ecom-micro/kube-build\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$v"
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*$#\t\1 => \1 '"$staging"'#p' "$kdir/go.mod"
    printf ')\n'
  } >"$src/go.mod"
  printf '%s\n' "$tools" >"$src/tools.go"
}

# build_kube_cmds CMD...: builds each missing command into $KUBE_OUT/bin.
build_kube_cmds() {
  local missing=() cmd
  for cmd in "$@"; do [ -x "$KUBE_OUT/bin/$cmd" ] || missing+=("$cmd"); done
  if ((${#missing[@]} == 0)); then say "cached: $KUBE_OUT/bin ($*)"; return; fi
  need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"
  kube_wrapper
  local v="v$KUBERNETES_VERSION" minor="${KUBERNETES_VERSION#1.}"; minor="${minor%%.*}"
  # kubeadm (and `kubectl version`) read these: without them kubeadm believes it is v0.0.0.
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for cmd in "${missing[@]}"; do
    say "building $cmd $v (minutes on 2 cores; kubelet ~9)"
    (cd "$KUBE_OUT/src" && run_logged "$KUBE_OUT/build-$cmd.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
      go build -trimpath -ldflags "$ldflags" -o "$KUBE_OUT/bin/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$KUBE_OUT/bin/$cmd.tmp" "$KUBE_OUT/bin/$cmd"
  done
}
build_kube() { build_kube_cmds "${KUBE_TEST_CMDS[@]}"; }
build_kube_node() { build_kube_cmds "${KUBE_NODE_CMDS[@]}"; }

build_helm() {
  if [ -x "$HELM_OUT/bin/helm" ]; then say "cached: $HELM_OUT/bin/helm"; return; fi
  need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"
  mkdir -p "$HELM_OUT/bin"
  say "building helm v$HELM_VERSION"
  run_logged "$HELM_OUT/build.log" env CGO_ENABLED=0 GOBIN="$HELM_OUT/bin" "${NICE[@]}" \
    go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
}

build_skaffold() {
  if [ -x "$SKAFFOLD_OUT/bin/skaffold" ]; then say "cached: $SKAFFOLD_OUT/bin/skaffold"; return; fi
  need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"
  local src="$SKAFFOLD_OUT/src" v="v$SKAFFOLD_VERSION"
  mkdir -p "$src" "$SKAFFOLD_OUT/bin"
  local sdir
  sdir="$(cd "$src" && go_mod_dir "github.com/GoogleContainerTools/skaffold/v2@$v")"
  # skaffold pins some dependencies with replace/exclude lines, which only take
  # effect in the main module: the wrapper copies them.
  {
    printf 'module ecom-micro/skaffold-build\n\n'
    sed -n 's/^go \(.*\)$/go \1/p' "$sdir/go.mod"
    printf '\nrequire github.com/GoogleContainerTools/skaffold/v2 %s\n\n' "$v"
    grep -E '^(replace|exclude) ' "$sdir/go.mod"
  } >"$src/go.mod"
  cp "$sdir/go.sum" "$src/go.sum"
  say "building skaffold $v (the largest build here: many minutes on 2 cores)"
  (cd "$src" && run_logged "$SKAFFOLD_OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$v" \
    -o "$SKAFFOLD_OUT/bin/skaffold.tmp" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold)
  mv "$SKAFFOLD_OUT/bin/skaffold.tmp" "$SKAFFOLD_OUT/bin/skaffold"
}

# A Dockerfile checker on BuildKit's own parser and linter (no Docker here):
# parses every instruction as `docker build` would and reports its lint warnings.
BUILDKIT_VERSION="${BUILDKIT_VERSION:-0.21.1}"
DFLINT_OUT="$ECOM_CACHE/dockerfile-lint-buildkit-$BUILDKIT_VERSION"
build_dockerfile_lint() {
  if [ -x "$DFLINT_OUT/bin/dockerfile-lint" ]; then say "cached: $DFLINT_OUT/bin/dockerfile-lint"; return; fi
  need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"
  local src="$DFLINT_OUT/src"
  mkdir -p "$src" "$DFLINT_OUT/bin"
  printf 'module ecom-micro/dockerfile-lint\n\ngo 1.24\n\nrequire github.com/moby/buildkit v%s\n' "$BUILDKIT_VERSION" >"$src/go.mod"
  cat >"$src/main.go" <<'GO'
// dockerfile-lint FILE...: parses each Dockerfile with BuildKit's frontend and
// prints one line per problem; exits 1 if any file has one.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func check(path string) []string {
	var problems []string
	f, err := os.Open(path)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	result, err := parser.Parse(f)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	for _, w := range result.Warnings {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", path, line, rule, msg))
	}})
	stages, _, err := instructions.Parse(result.AST, lint)
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", path, err))
	} else if len(stages) == 0 {
		problems = append(problems, fmt.Sprintf("%s: no build stage", path))
	}
	return problems
}

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		for _, p := range check(path) {
			fmt.Println(p)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
GO
  say "building dockerfile-lint (BuildKit v$BUILDKIT_VERSION's parser)"
  (cd "$src" && run_logged "$DFLINT_OUT/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w" -o "$DFLINT_OUT/bin/dockerfile-lint.tmp" .)
  mv "$DFLINT_OUT/bin/dockerfile-lint.tmp" "$DFLINT_OUT/bin/dockerfile-lint"
}

dapr_crds() {
  local dir
  dir="$(cd "$ECOM_CACHE" && go_mod_dir "github.com/dapr/dapr@v$DAPR_VERSION")/charts/dapr/crds"
  [ -d "$dir" ] || fail "no CRD folder in the dapr module: $dir" "check DAPR_VERSION in stack/versions.env"
  printf '%s\n' "$dir"
}

case "${1:-all}" in
  etcd) with_lock etcd build_etcd ;;
  kube) with_lock kube build_kube ;;
  kubectl) with_lock kube build_kube_cmds kubectl ;;
  node) with_lock kube build_kube_node ;;
  helm) with_lock helm build_helm ;;
  skaffold) with_lock skaffold build_skaffold ;;
  dockerfile-lint) with_lock dockerfile-lint build_dockerfile_lint ;;
  dapr-crds) dapr_crds ;;
  all)
    with_lock etcd build_etcd
    with_lock kube build_kube
    with_lock helm build_helm
    with_lock skaffold build_skaffold
    with_lock dockerfile-lint build_dockerfile_lint
    ;;
  *) fail "unknown part '$1'" "use one of: all etcd kube kubectl node helm skaffold dockerfile-lint dapr-crds" ;;
esac
