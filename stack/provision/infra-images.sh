#!/usr/bin/env bash
# Container images of the managed backends the operator runs (operator/src/render/infrastructure.ts),
# built here because no image registry is reachable: each from the Debian base (docker.sh bases) plus
# what the local stack already provisions.
#
#   infra-images.sh [all|kafka|postgres|redis|ferretdb]...   (or `list`: the four image references)
#   infra-images.sh verify     builds them, then runs each StatefulSet the operator renders in Docker
#                              (stack/images/verify-statefulsets.mjs: probes, data, restarts; ~1-2 min)
#
#   INFRA_IMAGE_PREFIX/kafka:KAFKA_VERSION       the broker jars of kafka.sh (Maven Central), Debian's Java 17
#   INFRA_IMAGE_PREFIX/postgres:POSTGRES_MAJOR   Debian's PostgreSQL, without its LLVM JIT and Perl tooling
#   INFRA_IMAGE_PREFIX/redis:REDIS_MAJOR         Debian's Redis
#   INFRA_IMAGE_PREFIX/ferretdb:FERRETDB_VERSION the static binary of ferretdb.sh (Go modules), FROM scratch
#
# Idempotent: an image is rebuilt only when its build key changes (its Dockerfile directory, the staged
# inputs, the base image, the versions); the key is stored as a label on the image. Needs a running
# Docker engine (docker.sh engine) and builds with the classic builder (DOCKER_BUILDKIT=0).
source "$(dirname "$0")/lib.sh"
PART=infra-images

PREFIX="${INFRA_IMAGE_PREFIX:-ecom-micro}"
BASE_IMAGE="debian:$DEBIAN_SUITE-slim"
WORK="$ECOM_CACHE/infra-images"
KEY_LABEL=io.ecom-micro.build-key
ALL=(kafka postgres redis ferretdb)

tag_of() {
  case "$1" in
    kafka) echo "$PREFIX/kafka:$KAFKA_VERSION" ;;
    postgres) echo "$PREFIX/postgres:$POSTGRES_MAJOR" ;;
    redis) echo "$PREFIX/redis:$REDIS_MAJOR" ;;
    ferretdb) echo "$PREFIX/ferretdb:$FERRETDB_VERSION" ;;
  esac
}

# The inputs staged next to a Dockerfile, from the local stack's caches.
kafka_libs() { echo "$ECOM_CACHE/kafka-$KAFKA_VERSION/libs"; }
ferretdb_bin() { echo "$ECOM_CACHE/ferretdb-$FERRETDB_VERSION/bin/ferretdb"; }

provision_inputs() {
  case "$1" in
    kafka)
      bash "$STACK_DIR/provision/kafka.sh"
      [ -f "$(kafka_libs)/.complete" ] || fail "no Kafka jars in $(kafka_libs)" "run bash stack/provision/kafka.sh"
      ;;
    ferretdb)
      bash "$STACK_DIR/provision/ferretdb.sh"
      [ -x "$(ferretdb_bin)" ] || fail "no FerretDB binary at $(ferretdb_bin) (ferretdb.sh skips the build when a mongod is on PATH)" \
        "build it with PATH lacking mongod: env PATH=/usr/local/go/bin:/usr/bin:/bin bash stack/provision/ferretdb.sh"
      ;;
  esac
}

# Hash of every file under a directory, by relative path and content (mtimes do not matter).
tree_hash() {
  (cd "$1" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
    if [ -L "$f" ]; then printf '%s -> %s\n' "$f" "$(readlink "$f")"; else printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-64)"; fi
  done) | sha256sum | cut -c1-64
}

build_key() {
  local name="$1"
  {
    echo "image $name $(tag_of "$name") base $(docker image inspect -f '{{.Id}}' "$BASE_IMAGE") mirror $DEBIAN_MIRROR"
    echo "dockerfile $(tree_hash "$STACK_DIR/images/$name")"
    case "$name" in
      kafka) echo "libs $(cd "$(kafka_libs)" && LC_ALL=C ls -l --time-style=+ . | sha256sum | cut -c1-64)" ;;
      ferretdb) echo "binary $(sha256sum <"$(ferretdb_bin)" | cut -c1-64)" ;;
    esac
  } | sha256sum | cut -c1-16
}

stage() {
  local name="$1" ctx="$2"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -a "$STACK_DIR/images/$name/." "$ctx/"
  case "$name" in
    kafka) mkdir -p "$ctx/libs" && cp -a "$(kafka_libs)/." "$ctx/libs/" && rm -f "$ctx/libs/.complete" ;;
    ferretdb) cp "$(ferretdb_bin)" "$ctx/ferretdb" && mkdir -p "$ctx/state" ;;
  esac
}

size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1000000}'; }

build_image() {
  local name="$1" tag key current old ctx start
  tag="$(tag_of "$name")"
  provision_inputs "$name"
  key="$(build_key "$name")" || fail "could not compute the build key of $tag" "check that docker answers and $ECOM_CACHE is readable"
  current="$(docker image inspect -f "{{ index .Config.Labels \"$KEY_LABEL\" }}" "$tag" 2>/dev/null || true)"
  if [ "$current" = "$key" ]; then
    say "cached: $tag ($(size_of "$tag"))"
    return
  fi
  old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  ctx="$WORK/$name/context"
  stage "$name" "$ctx" || fail "could not stage the build context of $tag in $ctx" "check the free disk space of $ECOM_CACHE"
  say "building $tag${current:+ (build key changed)}"
  start=$SECONDS
  # --cpu-shares: the build's RUN steps yield the CPU to other work on a shared machine.
  run_logged "$WORK/$name/build.log" env DOCKER_BUILDKIT=0 docker build --cpu-shares 256 \
    --build-arg "DEBIAN_IMAGE=$BASE_IMAGE" --build-arg "DEBIAN_MIRROR=$DEBIAN_MIRROR" \
    --label "$KEY_LABEL=$key" -t "$tag" "$ctx"
  rm -rf "$ctx"
  # The image this one replaces, unless something still uses it.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
  say "built $tag in $((SECONDS - start)) s ($(size_of "$tag"))"
}

main() {
  if [ "${1:-}" = list ]; then
    for name in "${ALL[@]}"; do tag_of "$name"; done
    return
  fi
  docker info >/dev/null 2>&1 || fail "no Docker engine answers" "start one: bash stack/provision/docker.sh engine"
  if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    bash "$STACK_DIR/provision/docker.sh" bases
  fi
  mkdir -p "$WORK"
  local names=("$@") verify=0
  if [ "${1:-}" = verify ]; then verify=1; names=(); fi
  [ ${#names[@]} -gt 0 ] && [ "${names[0]}" != all ] || names=("${ALL[@]}")
  local name
  for name in "${names[@]}"; do
    case "$name" in
      kafka | postgres | redis | ferretdb) with_lock "infra-image-$name" build_image "$name" ;;
      *) fail "unknown image '$name'" "use one of: all verify ${ALL[*]}" ;;
    esac
  done
  if [ "$verify" = 1 ]; then
    say "running the managed backends' StatefulSets in Docker"
    (cd "$REPO_DIR" && npx tsx stack/images/verify-statefulsets.mjs) || fail "an image does not honour its StatefulSet" "see the lines above"
  fi
}

main "$@"
