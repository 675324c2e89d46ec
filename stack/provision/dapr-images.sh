#!/usr/bin/env bash
# Dapr's container images for the Kubernetes path, built here from the dapr Go module: one image per
# binary, named as Dapr's Helm chart composes them for global.registry=$DAPR_IMAGE_REGISTRY and
# global.tag=$DAPR_VERSION (<registry>/daprd, placement, scheduler, operator, injector, sentry; the
# injector injects <registry>/daprd). The binaries come from `dapr.sh control-plane` (daprd with the
# narrowed registry of stack/dapr-build/registry.go), the image shape from stack/images/dapr/.
#
# Each image is tagged twice: <registry>/<name>:<DAPR_VERSION>, what the chart composes, and
# <registry>/<name>:<DAPR_VERSION>-<input>, a tag per content, which stack/kind/dapr.sh installs so
# that a rebuilt image rolls the pods that run it.
#
# Usage: dapr-images.sh [build|list]   (default: build)
#   build  builds the images that are missing or older than their inputs (a label records the inputs)
#   list   prints "<name> <content-tagged reference>" for the six images on stdout, one a line
# Cold, after dapr.sh built the runtime: ~2 min on 2 cores (operator ~35 s, injector and sentry ~20 s
# each, reusing the Go build cache; six `docker build`s of ~5 s); warm <1 s.
source "$(dirname "$0")/lib.sh"
PART=dapr-images

FLAVOUR=slim; [ "${ECOM_DAPR_ALLCOMPONENTS:-}" = 1 ] && FLAVOUR=all
BIN="$ECOM_CACHE/dapr-$DAPR_VERSION-$FLAVOUR/bin"
CTX="$ECOM_CACHE/dapr-images-$DAPR_VERSION-$FLAVOUR"
SHAPE="$STACK_DIR/images/dapr"
PREFIX="${DAPR_IMAGE_REGISTRY:-ecom-micro/dapr}"
NAMES=(daprd placement scheduler operator injector sentry)
# Debian's CA bundle (package ca-certificates), as distroless ships it.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

image_ref() { printf '%s/%s:%s\n' "$PREFIX" "$1" "$DAPR_VERSION"; }

# input NAME: what the image is made of; kept in a label, so a changed binary or shape rebuilds.
input() {
  {
    cat "$SHAPE/Dockerfile" "$SHAPE"/rootfs/etc/* "$CA_BUNDLE"
    stat -c '%n %s %Y' "$BIN/$1"
  } | sha256sum | cut -c1-16
}

build_one() {
  local name="$1" ref want have
  ref="$(image_ref "$name")"
  want="$(input "$name")"
  have="$(docker image inspect -f '{{ index .Config.Labels "ecom-micro.input" }}' "$ref" 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then
    docker image inspect "$ref-$want" >/dev/null 2>&1 || docker tag "$ref" "$ref-$want"
    say "cached: $ref"; return
  fi
  local ctx="$CTX/$name"
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/home" "$ctx/rootfs/tmp" "$ctx/nonroot-home"
  cp "$SHAPE"/rootfs/etc/* "$ctx/rootfs/etc/"
  cp "$CA_BUNDLE" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$ctx/rootfs/tmp"
  chmod 0755 "$ctx/rootfs/home"
  ln "$BIN/$name" "$ctx/$name" 2>/dev/null || cp "$BIN/$name" "$ctx/$name"
  say "building $ref"
  run_logged "$CTX/build-$name.log" env DOCKER_BUILDKIT=0 docker build -f "$SHAPE/Dockerfile" \
    --build-arg "BINARY=$name" --label "ecom-micro.input=$want" \
    --label "org.opencontainers.image.version=$DAPR_VERSION" -t "$ref" -t "$ref-$want" "$ctx"
  rm -rf "$ctx"
  # The image this one replaces (its content tag was its last name), unless something still uses it.
  if [ -n "$have" ]; then docker rmi "$ref-$have" >/dev/null 2>&1 || true; fi
}

list_images() {
  local name ref input
  for name in "${NAMES[@]}"; do
    ref="$(image_ref "$name")"
    input="$(docker image inspect -f '{{ index .Config.Labels "ecom-micro.input" }}' "$ref" 2>/dev/null)" && [ -n "$input" ] \
      || fail "$ref is not built" "bash stack/provision/dapr-images.sh"
    printf '%s %s-%s\n' "$name" "$ref" "$input"
  done
}

build_images() {
  bash "$STACK_DIR/provision/dapr.sh" control-plane
  [ -f "$CA_BUNDLE" ] || fail "$CA_BUNDLE is missing" "apt-get install ca-certificates"
  need docker "bash stack/provision/docker.sh engine"
  docker info >/dev/null 2>&1 || fail "the Docker engine does not answer" "start it: bash stack/provision/docker.sh engine"
  mkdir -p "$CTX"
  local name
  for name in "${NAMES[@]}"; do build_one "$name"; done
  local v
  v="$(docker run --rm --network none --entrypoint /daprd "$(image_ref daprd)" --version 2>&1)" \
    || fail "$(image_ref daprd) does not run: $v" "see $CTX/build-daprd.log"
  [ "$v" = "$DAPR_VERSION" ] || fail "$(image_ref daprd) reports version '$v'" "rebuild: docker rmi $(image_ref daprd)"
}

case "${1:-build}" in
  build) with_lock "dapr-images-$DAPR_VERSION" build_images ;;
  list) list_images ;;
  *) fail "unknown target '$1'" "use build or list" ;;
esac
