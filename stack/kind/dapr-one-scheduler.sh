#!/usr/bin/env bash
# Helm post-renderer for Dapr's chart in a kind cluster (stack/kind/dapr.sh --kind-name): one
# Scheduler instead of three.
#
# Dapr's chart (charts/dapr/charts/dapr_scheduler) fixes the Scheduler at `replicas: 3` and lists
# three members in its `--etcd-initial-cluster` argument; no value changes either. On one 2-core kind
# node the three embedded etcd members share the cores with the shop. Under load their /healthz
# stopped answering within the probe's second, kubelet restarted a member mid-saga, and every
# workflow waited for the Scheduler: 50 orders cancelled at their deadline, none reserved. The local
# stack runs one Scheduler too.
#
# Reads the rendered manifests on stdin and writes them to stdout with the Scheduler's StatefulSet at
# one replica and server-0 alone in its initial cluster. Fails, writing nothing, when the chart no
# longer renders either as expected (a new Dapr version): check the chart and this script together.
set -euo pipefail

awk '
  /^---/ { kind = ""; name = ""; meta = 0 }
  /^kind: / { kind = $2 }
  # metadata.name: the first "  name:" line after "metadata:", before the next top-level key.
  /^[^ ]/ { meta = ($0 == "metadata:") }
  meta && /^  name: / { name = $2; meta = 0 }
  kind == "StatefulSet" && name == "dapr-scheduler-server" {
    if ($0 == "  replicas: 3") { $0 = "  replicas: 1"; replicas++ }
    if ($0 ~ /^ *- "dapr-scheduler-server-0=https:[^,"]*,dapr-scheduler-server-1=/) {
      sub(/,dapr-scheduler-server-1=[^"]*"/, "\"")
      cluster++
    }
  }
  { lines[++n] = $0 }
  END {
    if (replicas != 1 || cluster != 1) {
      printf "dapr-one-scheduler.sh: found %d \"replicas: 3\" and %d three-member initial clusters in the Scheduler StatefulSet, expected 1 of each\n", replicas, cluster > "/dev/stderr"
      exit 1
    }
    for (i = 1; i <= n; i++) print lines[i]
  }
'
