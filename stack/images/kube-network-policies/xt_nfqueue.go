// Compiled into sigs.k8s.io/kube-network-policies' pkg/networkpolicy by stack/provision/kind.sh, which
// also rewrites the two `queue := &expr.Queue{...}` statements of controller.go to call xtNFQueue.
//
// Why: the enforcer hands each new connection's first packet to user space with the nftables `queue`
// expression (kernel module nft_queue). Kernels built without CONFIG_NFT_QUEUE (this VM's:
// `nft add rule ... queue num 100` fails with "No such file or directory") cannot load such a rule,
// and the enforcer then installs no rule at all. The x_tables NFQUEUE target does the same through
// nft_compat (CONFIG_NFT_COMPAT + CONFIG_NETFILTER_XT_TARGET_NFQUEUE), which such kernels often have:
// the same rule, with a compat target in place of the native expression.
package networkpolicy

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// xtNFQueue is "NFQUEUE --queue-num id [--queue-bypass]" (revision 3 of the target, whose
// struct xt_NFQ_info_v3 is three host-order u16: queue number, number of queues, flags).
func xtNFQueue(queueID int, bypass bool) *expr.Target {
	const flagBypass = 0x1 // NFQ_FLAG_BYPASS: accept the packet when no program listens on the queue
	var flags uint16
	if bypass {
		flags = flagBypass
	}
	info := make(xt.Unknown, 6)
	binary.NativeEndian.PutUint16(info[0:], uint16(queueID))
	binary.NativeEndian.PutUint16(info[2:], 1)
	binary.NativeEndian.PutUint16(info[4:], flags)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}
}
