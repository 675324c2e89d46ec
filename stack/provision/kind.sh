#!/usr/bin/env bash
# kind and a kind node image, assembled here the way `kind build node-image` does it, from parts built
# from Go modules and Debian packages (nothing is pulled from an image registry):
#
#   node image   ecom-micro/kind-node:v$KUBERNETES_VERSION   (e.g. ecom-micro/kind-node:v1.34.0)
#   kind         $ECOM_CACHE/kind-$KIND_VERSION/bin/kind
#
# The node image = stack/images/kind-node (Debian + systemd + containerd/runc/CNI plugins/iptables from
# Debian, the node's entrypoint, containerd config and kubelet unit) + kubelet, kubeadm, kubectl
# (kube.sh node) and crictl in /usr/bin + these images in the node's containerd, under the exact names
# kubeadm v$KUBERNETES_VERSION asks for (checked against `kubeadm config images list`):
#   registry.k8s.io/kube-{apiserver,controller-manager,scheduler,proxy}:v$KUBERNETES_VERSION,
#   registry.k8s.io/etcd:$ETCD_VERSION-0, registry.k8s.io/coredns/coredns:v$COREDNS_VERSION,
#   registry.k8s.io/pause:$PAUSE_VERSION, the default StorageClass's
#   ecom-micro/local-path-provisioner:v$LOCAL_PATH_PROVISIONER_VERSION + ecom-micro/local-path-helper
#   (BusyBox), ecom-micro/kind-pod-routes (routes between nodes' pod ranges, multi-node only) and
#   ecom-micro/kube-network-policies:v$KUBE_NETWORK_POLICIES_VERSION (the NetworkPolicy enforcer).
# No CNI daemon: containerd writes each node's ptp config from its podCIDR (conf_template).
# Every image carries a label with a hash of what it was built from: a later run rebuilds only what
# changed and is otherwise a no-op (~1 s). Binaries are cached in $ECOM_CACHE/<part>-<version>.
#
# Usage: kind.sh [all|kind|binaries|images|node-image|image-name]   (default: all)
# Cold on 2 shared cores (measured): kube.sh node ~12.5 min (kubelet 7, apiserver and controller-manager
# ~2 each, the rest 0.5), coredns 4, local-path-provisioner 4, crictl 1.5, etcd 0.7, kind 0.3; the
# kube-network-policies 1.5; the Debian base 0.5, the images 1, the node image 0.5 (plus module
# downloads). Warm: ~1.5 s.
# Needs a Docker engine (bash stack/provision/docker.sh) and Go 1.24+.
source "$(dirname "$0")/lib.sh"
PART=kind

KIND_OUT="$ECOM_CACHE/kind-$KIND_VERSION"
KUBE_OUT="$ECOM_CACHE/kube-$KUBERNETES_VERSION"
NODE_IMAGE="ecom-micro/kind-node:v$KUBERNETES_VERSION"
IMAGES_DIR="$STACK_DIR/images"
NICE=(nice -n "${ECOM_BUILD_NICE:-10}")
RECIPE_LABEL=ecom-micro.recipe

# The images of the node, NAME=what builds it (stack/images/kube/<dir>, and the binary it holds).
REGISTRY=registry.k8s.io
declare -A IMAGE_RECIPES=(
  ["$REGISTRY/kube-apiserver:v$KUBERNETES_VERSION"]="static $KUBE_OUT/bin/kube-apiserver"
  ["$REGISTRY/kube-controller-manager:v$KUBERNETES_VERSION"]="static $KUBE_OUT/bin/kube-controller-manager"
  ["$REGISTRY/kube-scheduler:v$KUBERNETES_VERSION"]="static $KUBE_OUT/bin/kube-scheduler"
  ["$REGISTRY/kube-proxy:v$KUBERNETES_VERSION"]="kube-proxy $KUBE_OUT/bin/kube-proxy"
  ["$REGISTRY/etcd:$ETCD_VERSION-0"]="static $ECOM_CACHE/etcd-$ETCD_VERSION/bin/etcd"
  ["$REGISTRY/coredns/coredns:v$COREDNS_VERSION"]="coredns $ECOM_CACHE/coredns-$COREDNS_VERSION/bin/coredns"
  ["$REGISTRY/pause:$PAUSE_VERSION"]="pause $ECOM_CACHE/pause-$PAUSE_VERSION/bin/pause"
  ["ecom-micro/local-path-provisioner:v$LOCAL_PATH_PROVISIONER_VERSION"]="static $ECOM_CACHE/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/bin/local-path-provisioner"
  ["ecom-micro/kube-network-policies:v$KUBE_NETWORK_POLICIES_VERSION"]="static $ECOM_CACHE/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION/bin/kube-network-policies"
)
NETPOL_OUT="$ECOM_CACHE/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION"
NETPOL_IMAGE="ecom-micro/kube-network-policies:v$KUBE_NETWORK_POLICIES_VERSION"
BUSYBOX_OUT="$ECOM_CACHE/busybox-static-$DEBIAN_SUITE"
PROVISIONER_IMAGE="ecom-micro/local-path-provisioner:v$LOCAL_PATH_PROVISIONER_VERSION"
# Routes between nodes' pod ranges (multi-node clusters): a script on Debian, versioned by its recipe.
POD_ROUTES_IMAGE="ecom-micro/kind-pod-routes:v2"
helper_image() { printf 'ecom-micro/local-path-helper:%s\n' "$(cat "$BUSYBOX_OUT/version")"; }

need_go() { need go "install Go 1.24+ (apt-get install golang or https://go.dev/dl)"; }
need_docker() {
  docker info >/dev/null 2>&1 || fail "no Docker engine answers" "start one with: bash stack/provision/docker.sh"
}

# go_install NAME VERSION MODULE_PACKAGE LDFLAGS: `go install PKG@vVERSION` into $ECOM_CACHE/NAME-VERSION/bin.
go_install() {
  local name="$1" version="$2" pkg="$3" ldflags="$4" out="$ECOM_CACHE/$1-$2"
  local bin="$out/bin/${pkg##*/}"
  if [ -x "$bin" ]; then say "cached: $bin"; return; fi
  need_go
  mkdir -p "$out"
  say "building $name v$version"
  # GOBIN gets the file only once it is complete: a half-written binary is never cached.
  run_logged "$out/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$out/bin" "${NICE[@]}" \
    go install -trimpath -ldflags "-s -w $ldflags" "$pkg@v$version"
}

# kube-network-policies (the NetworkPolicy enforcer kindnetd embeds), from its module source with one
# change: controller.go's nftables `queue` expressions become the x_tables NFQUEUE target
# (stack/images/kube-network-policies/xt_nfqueue.go says why). Rebuilt when that file changes.
build_network_policies() {
  local out="$NETPOL_OUT" module="sigs.k8s.io/kube-network-policies@v$KUBE_NETWORK_POLICIES_VERSION"
  local overlay="$IMAGES_DIR/kube-network-policies/xt_nfqueue.go"
  local src_hash; src_hash="$(sha256sum "$overlay" | cut -c1-16)"
  if [ -x "$out/bin/kube-network-policies" ] && [ "$(cat "$out/source.sha" 2>/dev/null)" = "$src_hash" ]; then
    say "cached: $out/bin/kube-network-policies"; return
  fi
  need_go
  mkdir -p "$out/bin"
  say "downloading $module"
  local dir
  dir="$(cd "$out" && GOFLAGS=-mod=mod go mod download -json "$module" 2>"$out/download.log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir/pkg/networkpolicy" ] || fail "go mod download $module failed" "see $out/download.log"
  rm -rf "$out/src" && cp -r "$dir" "$out/src" && chmod -R u+w "$out/src" \
    || fail "could not copy $dir to $out/src" "check free disk space"
  local controller="$out/src/pkg/networkpolicy/controller.go"
  perl -0pi -e 's/queue := &expr\.Queue\{Num: uint16\(c\.config\.QueueID\)\}\n\tif c\.config\.FailOpen \{\n\t\tqueue\.Flag = expr\.QueueFlagBypass\n\t\}/queue := xtNFQueue(c.config.QueueID, c.config.FailOpen)/g' "$controller"
  [ "$(grep -c 'xtNFQueue(c.config.QueueID' "$controller")" = 2 ] && ! grep -q 'expr\.Queue{' "$controller" \
    || fail "$module's controller.go no longer has the two queue statements kind.sh rewrites" "update the rewrite in build_network_policies"
  cp "$overlay" "$out/src/pkg/networkpolicy/"
  say "building kube-network-policies v$KUBE_NETWORK_POLICIES_VERSION"
  (cd "$out/src" && run_logged "$out/build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w" -o "$out/bin/kube-network-policies.tmp" ./cmd)
  mv "$out/bin/kube-network-policies.tmp" "$out/bin/kube-network-policies"
  printf '%s\n' "$src_hash" >"$out/source.sha"
  rm -rf "$out/src"
}

build_kind() {
  go_install kind "$KIND_VERSION" sigs.k8s.io/kind ""
}


build_pause() {
  local out="$ECOM_CACHE/pause-$PAUSE_VERSION"
  local src_hash; src_hash="$(sha256sum "$IMAGES_DIR/kube/pause/pause.go" | cut -c1-16)"
  if [ -x "$out/bin/pause" ] && [ "$(cat "$out/source.sha" 2>/dev/null)" = "$src_hash" ]; then
    say "cached: $out/bin/pause"; return
  fi
  need_go
  mkdir -p "$out/src" "$out/bin"
  printf 'module ecom-micro/pause\n\ngo 1.24\n' >"$out/src/go.mod"
  cp "$IMAGES_DIR/kube/pause/pause.go" "$out/src/main.go"
  say "building pause $PAUSE_VERSION"
  (cd "$out/src" && run_logged "$out/build.log" env CGO_ENABLED=0 "${NICE[@]}" \
    go build -trimpath -ldflags "-s -w -X main.version=$PAUSE_VERSION" -o "$out/bin/pause.tmp" .)
  mv "$out/bin/pause.tmp" "$out/bin/pause"
  printf '%s\n' "$src_hash" >"$out/source.sha"
}

# Debian's statically linked BusyBox, for the local-path helper pod (apt-get download, no install).
fetch_busybox() {
  if [ -x "$BUSYBOX_OUT/busybox" ] && [ -s "$BUSYBOX_OUT/version" ]; then say "cached: $BUSYBOX_OUT/busybox"; return; fi
  mkdir -p "$BUSYBOX_OUT/deb"
  say "apt-get download busybox-static"
  (cd "$BUSYBOX_OUT/deb" && rm -f ./*.deb && apt-get download -qq busybox-static >/dev/null 2>&1) || {
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$BUSYBOX_OUT/deb" && apt-get download -qq busybox-static >/dev/null) \
      || fail "apt-get download busybox-static failed" "check that the Debian mirror is reachable (apt-get update)"
  }
  local deb; deb="$(ls "$BUSYBOX_OUT"/deb/busybox-static_*.deb)"
  rm -rf "$BUSYBOX_OUT/x"
  dpkg-deb -x "$deb" "$BUSYBOX_OUT/x" && cp "$BUSYBOX_OUT/x/bin/busybox" "$BUSYBOX_OUT/busybox.tmp" \
    || fail "could not unpack $deb" "delete $BUSYBOX_OUT and run again"
  mv "$BUSYBOX_OUT/busybox.tmp" "$BUSYBOX_OUT/busybox"
  # 1:1.35.0-4+deb12u1+b1 -> busybox-1.35.0-4-deb12u1-b1 (a valid image tag)
  dpkg-deb -f "$deb" Version | sed -e 's/^[0-9]*://' -e 's/[^A-Za-z0-9_.-]/-/g' -e 's/^/busybox-/' >"$BUSYBOX_OUT/version"
  rm -rf "$BUSYBOX_OUT/x" "$BUSYBOX_OUT/deb"
}

build_binaries() {
  bash "$STACK_DIR/provision/kube.sh" node
  # The same etcd as the operator tests' API server (kube.sh), at the version kubeadm asks for.
  bash "$STACK_DIR/provision/kube.sh" etcd
  with_lock kind-coredns go_install coredns "$COREDNS_VERSION" github.com/coredns/coredns \
    "-X github.com/coredns/coredns/coremain.GitCommit=v$COREDNS_VERSION"
  with_lock kind-crictl go_install crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION"
  with_lock kind-local-path go_install local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" \
    github.com/rancher/local-path-provisioner "-X main.VERSION=v$LOCAL_PATH_PROVISIONER_VERSION"
  with_lock kind-pause build_pause
  with_lock kind-network-policies build_network_policies
  with_lock kind-busybox fetch_busybox
}

# recipe FILE...: a short hash of the inputs of an image: small files by name (relative to the
# checkout, so every clone agrees) and content, binaries by size and mtime (hashing ~100 MB binaries
# on every run would cost seconds).
recipe() {
  local f
  for f in "$@"; do
    if [ "$(stat -c %s "$f")" -gt 1048576 ]; then stat -c '%n %s %Y' "$f"
    else printf '%s %s\n' "${f#"$REPO_DIR"/}" "$(sha256sum <"$f" | cut -c1-64)"; fi
  done | sha256sum | cut -c1-16
}
image_recipe() { docker image inspect -f "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null || true; }

# build_image NAME DIR CONTEXT_FILE...: docker build of stack/images/<DIR> with the files next to its
# Dockerfile (binaries are hard-linked, not copied); skipped when the image holds the same recipe.
build_image() {
  local name="$1" dir="$2"; shift 2
  local dockerfile_dir="$IMAGES_DIR/$dir"
  local files=("$dockerfile_dir"/* "$@")
  local hash; hash="$(recipe "${files[@]}")"
  if [ "$(image_recipe "$name")" = "$hash" ]; then say "cached: $name"; return; fi
  local ctx="$ECOM_CACHE/kind-images/$(printf '%s' "$name" | tr '/:' '__')"
  rm -rf "$ctx" && mkdir -p "$ctx/tmp" && chmod 1777 "$ctx/tmp"
  cp -r "$dockerfile_dir"/. "$ctx/"
  local f; for f in "$@"; do ln -f "$f" "$ctx/" 2>/dev/null || cp "$f" "$ctx/"; done
  local args=(--label "$RECIPE_LABEL=$hash" --build-arg "DEBIAN_IMAGE=debian:$DEBIAN_SUITE-slim" -t "$name")
  [ "$dir" = kube/static ] && args+=(--build-arg "BINARY=$(basename "$1")")
  say "building image $name"
  run_logged "$ctx.log" env DOCKER_BUILDKIT=0 docker build -q "${args[@]}" "$ctx"
  rm -rf "$ctx"
}

# kubeadm must find every image it wants under exactly the names built here, or it would pull.
check_kubeadm_images() {
  local wanted missing=()
  wanted="$("$KUBE_OUT/bin/kubeadm" config images list --kubernetes-version "v$KUBERNETES_VERSION" 2>/dev/null)" \
    || fail "kubeadm config images list failed" "run $KUBE_OUT/bin/kubeadm config images list to see why"
  local image
  for image in $wanted; do [ -n "${IMAGE_RECIPES[$image]:-}" ] || missing+=("$image"); done
  ((${#missing[@]} == 0)) || fail "kubeadm v$KUBERNETES_VERSION wants images not built here: ${missing[*]}" \
    "set ETCD_VERSION / COREDNS_VERSION / PAUSE_VERSION in stack/versions.env to kubeadm's tags"
}

build_images() {
  need_docker
  docker image inspect "debian:$DEBIAN_SUITE-slim" >/dev/null 2>&1 \
    || fail "no local debian:$DEBIAN_SUITE-slim image" "build it with: bash stack/provision/docker.sh bases"
  check_kubeadm_images
  local name dir bin
  for name in "${!IMAGE_RECIPES[@]}"; do
    read -r dir bin <<<"${IMAGE_RECIPES[$name]}"
    [ -x "$bin" ] || fail "missing $bin for $name" "run: bash stack/provision/kind.sh binaries"
    build_image "$name" "kube/$dir" "$bin"
  done
  build_image "$(helper_image)" kube/local-path-helper "$BUSYBOX_OUT/busybox"
  build_image "$POD_ROUTES_IMAGE" kube/pod-routes "$IMAGES_DIR/kube/kube-proxy/iptables-wrapper"
}

node_base_image() { printf 'ecom-micro/kind-node-base:%s\n' "$(node_base_recipe)"; }
node_base_recipe() { recipe $(find "$IMAGES_DIR/kind-node/Dockerfile" "$IMAGES_DIR/kind-node/files" -type f | sort); }

build_node_base() {
  local name; name="$(node_base_image)"
  if docker image inspect "$name" >/dev/null 2>&1; then say "cached: $name"; return; fi
  local ctx="$ECOM_CACHE/kind-images/kind-node-base"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -r "$IMAGES_DIR/kind-node/Dockerfile" "$IMAGES_DIR/kind-node/files" "$ctx/"
  say "building $name (Debian packages: about a minute)"
  run_logged "$ctx.log" env DOCKER_BUILDKIT=0 docker build -q --build-arg "DEBIAN_IMAGE=debian:$DEBIAN_SUITE-slim" \
    --label "$RECIPE_LABEL=$(node_base_recipe)" -t "$name" "$ctx"
  rm -rf "$ctx"
  # Earlier bases (other recipes) are no longer needed once a node image is built on this one.
  docker images --format '{{.Repository}}:{{.Tag}}' ecom-micro/kind-node-base | grep -vxF "$name" \
    | xargs -r docker image rm >/dev/null 2>&1 || true
}

NODE_BINARIES=()
node_inputs() {
  NODE_BINARIES=("$KUBE_OUT/bin/kubelet" "$KUBE_OUT/bin/kubeadm" "$KUBE_OUT/bin/kubectl" "$ECOM_CACHE/crictl-$CRICTL_VERSION/bin/crictl")
}
node_recipe() {
  node_inputs
  local ids name
  ids="$(for name in "$(node_base_image)" "${!IMAGE_RECIPES[@]}" "$(helper_image)" "$POD_ROUTES_IMAGE"; do
    printf '%s %s\n' "$name" "$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null)"
  done | sort)"
  # This script too: how the node is assembled is part of the recipe.
  { printf '%s\n' "$ids"; recipe "${NODE_BINARIES[@]}" "$IMAGES_DIR"/kind-node/manifests/* "$STACK_DIR/provision/kind.sh"; } | sha256sum | cut -c1-16
}

BUILD_CONTAINER=""
# in_build_container SCRIPT: runs SCRIPT (sh, stdin passed on) in the build container, or fails.
in_build_container() {
  docker exec -i "$BUILD_CONTAINER" sh -c "$1" || fail "in the build container, failed: $1" "see the error above"
}
remove_build_container() { [ -z "$BUILD_CONTAINER" ] || docker rm -f -v "$BUILD_CONTAINER" >/dev/null 2>&1 || true; }

build_node_image() {
  need_docker
  build_node_base
  node_inputs
  local hash; hash="$(node_recipe)"
  if [ "$(image_recipe "$NODE_IMAGE")" = "$hash" ]; then say "cached: $NODE_IMAGE"; return; fi
  local start=$SECONDS images=("${!IMAGE_RECIPES[@]}" "$(helper_image)" "$POD_ROUTES_IMAGE") f name
  for f in "${NODE_BINARIES[@]}"; do [ -x "$f" ] || fail "missing $f" "run: bash stack/provision/kind.sh binaries"; done
  for name in "${images[@]}"; do
    docker image inspect "$name" >/dev/null 2>&1 || fail "missing image $name" "run: bash stack/provision/kind.sh images"
  done
  say "assembling $NODE_IMAGE"
  BUILD_CONTAINER="ecom-kind-node-build-$$"
  trap remove_build_container EXIT
  # Not privileged: containerd only stores the images (--no-unpack), it never runs a container here.
  # (Every step checks its own status: with_lock runs this function where `set -e` does not apply.)
  docker run -d --name "$BUILD_CONTAINER" --entrypoint sleep --security-opt seccomp=unconfined \
    "$(node_base_image)" infinity >/dev/null || fail "could not start the build container" "check the Docker engine"
  for f in "${NODE_BINARIES[@]}"; do
    docker cp "$f" "$BUILD_CONTAINER:/usr/bin/$(basename "$f")" || fail "docker cp of $f into the build container failed" "check the Docker engine"
  done
  local helper; helper="$(helper_image)"
  sed -e "s#@PROVISIONER_IMAGE@#$PROVISIONER_IMAGE#g" -e "s#@HELPER_IMAGE@#$helper#g" \
    "$IMAGES_DIR/kind-node/manifests/default-storage.yaml" \
    | in_build_container 'mkdir -p /kind/manifests && cat >/kind/manifests/default-storage.yaml'
  sed -e "s#@POD_ROUTES_IMAGE@#$POD_ROUTES_IMAGE#g" -e "s#@NETWORK_POLICIES_IMAGE@#$NETPOL_IMAGE#g" \
    "$IMAGES_DIR/kind-node/manifests/default-cni.yaml" \
    | in_build_container 'cat >/kind/manifests/default-cni.yaml'
  in_build_container "printf '%s' v$KUBERNETES_VERSION >/kind/version && cd /usr/bin && chown root:root kubelet kubeadm kubectl crictl && chmod 0755 kubelet kubeadm kubectl crictl && kubeadm version -o short" </dev/null >/dev/null
  say "importing ${#images[@]} images into the node's containerd"
  docker exec -d "$BUILD_CONTAINER" sh -c 'containerd >/var/log/containerd-build.log 2>&1' || fail "could not start containerd in the build container" "check the Docker engine"
  local tries=0
  until docker exec "$BUILD_CONTAINER" ctr version >/dev/null 2>&1; do
    ((++tries < 60)) || { docker exec "$BUILD_CONTAINER" tail -n 20 /var/log/containerd-build.log >&2; fail "containerd did not start in the build container" "see the log above"; }
    sleep 0.5
  done
  docker save "${images[@]}" | docker exec -i "$BUILD_CONTAINER" \
    ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests - >"$KIND_OUT/import.log" 2>&1 \
    || { tail -n 20 "$KIND_OUT/import.log" >&2; fail "importing the images into the node's containerd failed" "see $KIND_OUT/import.log"; }
  local listed; listed="$(in_build_container 'ctr --namespace=k8s.io images list -q' </dev/null)"
  for name in "${images[@]}"; do
    [[ "$name" == */*/* || "$name" == *.*/* ]] || name="docker.io/$name"
    grep -qxF "$name" <<<"$listed" || fail "$name is missing from the node's containerd after import" "see $KIND_OUT/import.log"
  done
  in_build_container 'pkill -x containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -rf /run/containerd /var/log/containerd-build.log /tmp/* /var/tmp/*' </dev/null
  say "committing $NODE_IMAGE"
  local previous; previous="$(docker image inspect -f '{{.Id}}' "$NODE_IMAGE" 2>/dev/null || true)"
  docker commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    --change "LABEL $RECIPE_LABEL=$hash" \
    "$BUILD_CONTAINER" "$NODE_IMAGE" >/dev/null || fail "docker commit of $NODE_IMAGE failed" "check the Docker engine (disk space?)"
  remove_build_container; BUILD_CONTAINER=""
  # The build this one replaces (~1 GB); kept while a cluster's node still runs it.
  [ -z "$previous" ] || docker image rm "$previous" >/dev/null 2>&1 || true
  say "$NODE_IMAGE ready ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'), $((SECONDS - start)) s)"
}

mkdir -p "$KIND_OUT"
case "${1:-all}" in
  kind) with_lock kind-cli build_kind ;;
  binaries) build_binaries ;;
  images) build_binaries; with_lock kind-images build_images ;;
  node-image) with_lock kind-images build_images; with_lock kind-node build_node_image ;;
  image-name) printf '%s\n' "$NODE_IMAGE" ;;
  all)
    start=$SECONDS
    need_docker
    with_lock kind-node build_node_base
    with_lock kind-cli build_kind
    build_binaries
    with_lock kind-images build_images
    with_lock kind-node build_node_image
    say "kind $KIND_VERSION and $NODE_IMAGE ready ($((SECONDS - start)) s): $KIND_OUT/bin/kind"
    ;;
  *) fail "unknown part '$1'" "use one of: all kind binaries images node-image image-name" ;;
esac
