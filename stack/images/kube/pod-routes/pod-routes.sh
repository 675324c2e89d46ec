#!/bin/bash
# Runs on every node (DaemonSet, host network, NET_ADMIN): each node's pods live in that node's
# podCIDR (ptp + host-local, written by containerd), so every other node needs a route
# "<podCIDR> via <node address>". Reads the Node objects every few seconds and keeps those routes.
set -u
sa=/var/run/secrets/kubernetes.io/serviceaccount
api="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}"
self="${NODE_NAME:?NODE_NAME must name this node}"
interval="${POD_ROUTES_INTERVAL:-5}"
declare -A installed=()

while true; do
  if nodes="$(curl -sf --max-time 10 --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" "$api/api/v1/nodes")"; then
    # "<podCIDR> <InternalIP>" for every other node that has both (IPv4 only).
    routes="$(jq -r --arg self "$self" '.items[]
        | select(.metadata.name != $self and .spec.podCIDR != null)
        | [.spec.podCIDR, ([.status.addresses[]? | select(.type == "InternalIP" and (.address | contains("."))) | .address][0])]
        | select(.[1] != null) | "\(.[0]) \(.[1])"' <<<"$nodes")"
    while read -r cidr via; do
      [ -n "$cidr" ] || continue
      if [ "${installed[$cidr]:-}" != "$via" ] || ! ip route show "$cidr" | grep -q "via $via "; then
        if ip route replace "$cidr" via "$via"; then
          echo "route $cidr via $via"
          installed[$cidr]="$via"
        fi
      fi
    done <<<"$routes"
  else
    echo "cannot list nodes yet (API server unreachable?); retrying" >&2
  fi
  sleep "$interval"
done
