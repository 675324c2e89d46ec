#!/usr/bin/env bash
# The container engine of the Kubernetes path, and the base images every image here builds on.
#
#   docker.sh engine   a running Docker engine: an engine that already answers is used as it is;
#                      otherwise Debian's docker.io is installed and dockerd started by hand (no systemd)
#   docker.sh bases    debian:bookworm-slim (debootstrap) and node:<NODE_VERSION>-bookworm-slim
#                      (that Debian plus the Node binary from the npm registry), built locally under the
#                      upstream names, so the project's Dockerfiles build unchanged where nothing can be pulled
#   docker.sh stop     stops a dockerd this script started (never an engine it found running)
#   docker.sh all      engine + bases (default)
source "$(dirname "$0")/lib.sh"
PART=docker

DOCKER_STATE="$ECOM_CACHE/dockerd"
ROOTFS_TAR="$ECOM_CACHE/debian-$DEBIAN_SUITE-minbase-$DEBIAN_SNAPSHOT/rootfs.tar"

engine_answers() { docker info >/dev/null 2>&1; }

# True when the kernel's capability bounding set lacks CAP_SYS_RESOURCE (bit 24), as in some VMs:
# runc then cannot give privileged containers (kind nodes) every capability and refuses to start them.
lacks_sys_resource() {
  local bnd
  bnd="$(awk '/^CapBnd:/{print $2}' /proc/self/status)"
  (( (16#$bnd >> 24 & 1) == 0 ))
}

# A runc that first drops CAP_SYS_RESOURCE from the container's OCI spec; made the default runtime of
# the dockerd started here, and only on a host that lacks the capability.
write_runc_wrapper() {
  local wrapper="$DOCKER_STATE/runc-without-sys-resource"
  cat >"$wrapper.tmp" <<'SH'
#!/usr/bin/env bash
# Drops CAP_SYS_RESOURCE from the bundle's config.json on create/run, and from the process.json of
# `runc exec` (docker exec into a privileged container, e.g. every kind command), then is runc.
args=("$@"); bundle=""; cmd=""; process=""
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --bundle | -b) bundle="${args[i + 1]}" ;;
    --bundle=*) bundle="${args[i]#--bundle=}" ;;
    --process | -p) process="${args[i + 1]}" ;;
    --process=*) process="${args[i]#--process=}" ;;
    create | run | exec) [ -z "$cmd" ] && cmd="${args[i]}" ;;
  esac
done
drop() {
  jq "$1 |= (if . == null then . else with_entries(.value |= map(select(. != \"CAP_SYS_RESOURCE\"))) end)" \
    "$2" >"$2.ecom" && mv "$2.ecom" "$2"
}
case "$cmd" in
  create | run) spec="${bundle:-.}/config.json"; [ -f "$spec" ] && drop .process.capabilities "$spec" ;;
  exec) [ -n "$process" ] && [ -f "$process" ] && drop .capabilities "$process" ;;
esac
exec runc "$@"
SH
  chmod +x "$wrapper.tmp" && mv "$wrapper.tmp" "$wrapper"
  printf '%s\n' "$wrapper"
}

start_engine() {
  if engine_answers; then say "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) already running"; return; fi
  if ! command -v dockerd >/dev/null || ! command -v jq >/dev/null || ! command -v debootstrap >/dev/null; then
    apt_install docker.io containerd runc iptables debootstrap jq
  fi
  mkdir -p "$DOCKER_STATE"
  local extra=()
  if lacks_sys_resource; then
    say "this kernel's capability bounding set lacks CAP_SYS_RESOURCE: runc drops it from every container's spec"
    extra=(--add-runtime "ecom-runc=$(write_runc_wrapper)" --default-runtime ecom-runc)
  fi
  say "starting dockerd (log: $DOCKER_STATE/dockerd.log)"
  local pid
  pid="$(daemonize "$DOCKER_STATE/dockerd.log" dockerd --pidfile "$DOCKER_STATE/dockerd.pid" "${extra[@]}")"
  if ! wait_started "$pid" 60 "$DOCKER_STATE/dockerd.log" engine_answers; then
    stop_engine
    fail "dockerd did not start" "see $DOCKER_STATE/dockerd.log"
  fi
  touch "$DOCKER_STATE/started-here"
  say "engine ready ($(docker version --format '{{.Server.Version}}'))"
}

stop_engine() {
  stop_pidfile "$DOCKER_STATE/dockerd.pid" dockerd
  rm -f "$DOCKER_STATE/started-here"
}

build_debian_base() {
  if docker image inspect "debian:$DEBIAN_SUITE-slim" >/dev/null 2>&1; then say "cached: debian:$DEBIAN_SUITE-slim"; return; fi
  if [ ! -f "$ROOTFS_TAR" ]; then
    local dir; dir="$(dirname "$ROOTFS_TAR")/rootfs"
    rm -rf "$dir"; mkdir -p "$dir"
    say "debootstrap $DEBIAN_SUITE (minbase; about a minute)"
    run_logged "$(dirname "$ROOTFS_TAR")/debootstrap.log" debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR"
    # What a slim image leaves out: package lists, caches, documentation.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* \
      "$dir"/usr/share/info/* "$dir"/var/log/*.log
    tar -C "$dir" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$dir"
  fi
  say "importing debian:$DEBIAN_SUITE-slim"
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$ROOTFS_TAR" "debian:$DEBIAN_SUITE-slim" >/dev/null
}

build_node_base() {
  local image="node:$NODE_VERSION-$DEBIAN_SUITE-slim" minor="node:${NODE_VERSION%.*}-$DEBIAN_SUITE-slim"
  if docker image inspect "$image" >/dev/null 2>&1; then say "cached: $image"; return; fi
  local ctx="$ECOM_CACHE/node-image-$NODE_VERSION" node="$ECOM_CACHE/node-$NODE_VERSION"
  # The same Node build the local stack runs the services on.
  bash "$STACK_DIR/provision/node.sh"
  mkdir -p "$ctx"
  if [ ! -f "$ctx/npm/package.json" ]; then
    say "fetching npm@$NPM_VERSION from the npm registry"
    rm -rf "$ctx/npm" "$ctx"/*.tgz
    (cd "$ctx" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) \
      || fail "npm pack of npm@$NPM_VERSION failed" "check that the npm registry is reachable"
    mkdir -p "$ctx/npm"
    tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
    rm -f "$ctx"/*.tgz
  fi
  rm -rf "$ctx/node" && mkdir -p "$ctx/node"
  cp -a "$node/bin" "$node/include" "$node/LICENSE" "$ctx/node/"
  cp "$STACK_DIR/images/node/Dockerfile" "$ctx/Dockerfile"
  # Certificate authorities this host added (a TLS-inspecting egress proxy, a company CA): npm inside
  # image builds reaches the registry through the same network, so the local base trusts them too.
  cat /usr/local/share/ca-certificates/*.crt >"$ctx/host-ca-certificates.crt" 2>/dev/null || true
  say "building $image"
  run_logged "$ctx/build.log" env DOCKER_BUILDKIT=0 docker build -q --build-arg "DEBIAN_IMAGE=debian:$DEBIAN_SUITE-slim" -t "$image" -t "$minor" "$ctx"
}

case "${1:-all}" in
  engine) with_lock docker-engine start_engine ;;
  bases)
    with_lock docker-bases build_debian_base
    with_lock docker-bases build_node_base
    ;;
  stop) stop_engine ;;
  all)
    with_lock docker-engine start_engine
    with_lock docker-bases build_debian_base
    with_lock docker-bases build_node_base
    ;;
  *) fail "unknown part '$1'" "use one of: all engine bases stop" ;;
esac
