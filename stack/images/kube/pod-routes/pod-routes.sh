#!/bin/bash
# Runs on every node (DaemonSet, host network, NET_ADMIN): each node's pods live in that node's
# podCIDR (ptp + host-local, written by containerd), so every other node needs a route
# "<podCIDR> via <node address>". Reads the Node objects every few seconds and keeps those routes.
#
# It also keeps pod-to-pod traffic between nodes unmasqueraded. The ptp plugin's ipMasq masquerades
# every packet a pod sends outside its node's podCIDR (containerd's CNI template sets it, so pods
# reach the host and beyond), and a pod on another node would then see the node's address: the
# NetworkPolicies, which match pod addresses, drop it. A RETURN rule ahead of ptp's chains exempts
# "from this node's podCIDR to another node's". It names the source: a NodePort connection from
# outside, forwarded to a pod on another node, keeps the masquerade kube-proxy gives it, or the reply
# would not come back through this node.
# iptables is the wrapper of kube-proxy's image: the same backend (nft or legacy) as the node's rules.
set -u
sa=/var/run/secrets/kubernetes.io/serviceaccount
api="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}"
self="${NODE_NAME:?NODE_NAME must name this node}"
interval="${POD_ROUTES_INTERVAL:-5}"
declare -A installed=()
exempt_comment="pod-routes: pod to pod across nodes, unmasqueraded"

# exempt OWN_CIDR OTHER_CIDR: the RETURN rule, first in nat POSTROUTING, unless already there.
exempt() {
  local rule=(-s "$1" -d "$2" -m comment --comment "$exempt_comment" -j RETURN)
  iptables -w 5 -t nat -C POSTROUTING "${rule[@]}" 2>/dev/null && return 0
  iptables -w 5 -t nat -I POSTROUTING 1 "${rule[@]}" && echo "unmasqueraded $1 -> $2"
}

while true; do
  if nodes="$(curl -sf --max-time 10 --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" "$api/api/v1/nodes")"; then
    # "<podCIDR> <InternalIP>" for every other node that has both (IPv4 only).
    routes="$(jq -r --arg self "$self" '.items[]
        | select(.metadata.name != $self and .spec.podCIDR != null)
        | [.spec.podCIDR, ([.status.addresses[]? | select(.type == "InternalIP" and (.address | contains("."))) | .address][0])]
        | select(.[1] != null) | "\(.[0]) \(.[1])"' <<<"$nodes")"
    own="$(jq -r --arg self "$self" '.items[] | select(.metadata.name == $self) | .spec.podCIDR // empty' <<<"$nodes")"
    while read -r cidr via; do
      [ -n "$cidr" ] || continue
      if [ "${installed[$cidr]:-}" != "$via" ] || ! ip route show "$cidr" | grep -q "via $via "; then
        if ip route replace "$cidr" via "$via"; then
          echo "route $cidr via $via"
          installed[$cidr]="$via"
        fi
      fi
      [ -z "$own" ] || exempt "$own" "$cidr"
    done <<<"$routes"
  else
    echo "cannot list nodes yet (API server unreachable?); retrying" >&2
  fi
  sleep "$interval"
done
