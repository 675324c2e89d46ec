#!/bin/bash
# cgroup v1 only: the entrypoint hid the misc controller from systemd by bind-mounting a filtered
# /proc/cgroups; once systemd is up, the real file comes back.
set -euo pipefail
[ -f /sys/fs/cgroup/cgroup.controllers ] && exit 0
if grep -q ' /proc/cgroups ' /proc/self/mountinfo; then umount /proc/cgroups || true; fi
