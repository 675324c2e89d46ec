#!/bin/bash
# cgroup v2 only, run before the kubelet (after systemd has moved every process out of the root
# cgroup): delegates every controller to /kubelet and /kubelet.slice, the kubelet's cgroupRoot.
set -euo pipefail
root=/sys/fs/cgroup
[ -f "$root/cgroup.controllers" ] || { echo "not a cgroup v2 host" >&2; exit 1; }
delegate() {  # "cpu memory pids" -> "+cpu +memory +pids"
  local controllers
  controllers="$(sed -e 's/^/+/' -e 's/ / +/g' "$root$1/cgroup.controllers")"
  [ -z "${controllers#+}" ] || echo "$controllers" >"$root$1/cgroup.subtree_control"
}
delegate ""
for group in /kubelet /kubelet.slice; do
  mkdir -p "$root$group"
  delegate "$group"
done
