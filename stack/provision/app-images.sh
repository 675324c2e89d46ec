#!/usr/bin/env bash
# The images of ecom-micro itself, built from this checkout with the local Docker engine: one per
# app, the seven services and the public edge (services/Dockerfile --build-arg SERVICE=<id>), and the
# operator's (operator/Dockerfile).
#
#   app-images.sh build   builds every image (Docker's layer cache makes an unchanged one a no-op) and
#                         tags it twice: ecom-micro/ecom-<name>:<chart appVersion> and
#                         ecom-micro/ecom-<name>:<content id> (the first 12 hex digits of its image id);
#                         writes "<name>=<content-id reference>" lines to $ECOM_CACHE/kind/app-images.env
#   app-images.sh list    prints that file
#
# The content tag changes exactly when an image's content does, so a cluster given these references
# rolls only what changed. Needs the engine and the Node base image (docker.sh all).
source "$(dirname "$0")/lib.sh"
PART=app-images

SERVICES=(auth user notification order inventory payment saga edge)
PREFIX="${ECOM_IMAGE_PREFIX:-ecom-micro}"
VERSION="$(sed -n "s/^appVersion: *['\"]\{0,1\}\([^'\"]*\)['\"]\{0,1\}$/\1/p" "$REPO_DIR/charts/ecom-micro/Chart.yaml")"
LIST="$ECOM_CACHE/kind/app-images.env"

# build_one NAME DOCKERFILE [BUILD-ARG...]: prints the content-tagged reference.
build_one() {
  local name="$1" dockerfile="$2"; shift 2
  local image="$PREFIX/ecom-$name" log="$ECOM_CACHE/kind/build-$name.log" id
  say "building $image ($dockerfile${1:+ $*})"
  if ! id="$(cd "$REPO_DIR" && DOCKER_BUILDKIT=0 docker build -q -f "$dockerfile" "$@" -t "$image:$VERSION" . 2>"$log")"; then
    tail -n 15 "$log" >&2
    fail "building $image failed" "see $log"
  fi
  id="${id#sha256:}"
  docker tag "$image:$VERSION" "$image:${id:0:12}"
  printf '%s=%s:%s\n' "$name" "$image" "${id:0:12}"
}

build_all() {
  need docker "run: bash stack/provision/docker.sh"
  docker info >/dev/null 2>&1 || fail "no Docker engine answers" "run: bash stack/provision/docker.sh engine"
  mkdir -p "$(dirname "$LIST")"
  local start=$SECONDS lines=()
  lines+=("$(build_one operator operator/Dockerfile)")
  for s in "${SERVICES[@]}"; do
    lines+=("$(build_one "$s" services/Dockerfile --build-arg "SERVICE=$s")")
  done
  printf '%s\n' "${lines[@]}" >"$LIST.tmp" && mv "$LIST.tmp" "$LIST"
  say "${#lines[@]} images ready in $((SECONDS - start)) s ($LIST)"
}

case "${1:-build}" in
  build) with_lock app-images build_all ;;
  list) cat "$LIST" ;;
  *) fail "unknown action '$1'" "use: app-images.sh build|list" ;;
esac
