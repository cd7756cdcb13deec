package ipvs

import (
	"cmp"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// LoopBackSet is the ipset (type hash:ip,port,ip) of this node's endpoints
// as (IP, protocol:port, IP): the hairpin masquerade rule matches a packet
// whose destination IP and port and whose source IP are in it, that is, a
// pod that reached itself through a service (kube-proxy's KUBE-LOOP-BACK).
// Only that connection is masqueraded; a pod reaching another pod through a
// service keeps its address.
const (
	LoopBackSet     = "NODEAGENT-IPVS-LOOP-BACK"
	LoopBackSetType = "hash:ip,port,ip"
)

// LoopBack is one entry of LoopBackSet: a local endpoint (the set's entry
// is IP,Protocol:Port,IP).
type LoopBack struct {
	IP       netip.Addr
	Port     uint16
	Protocol corev1.Protocol
}

// String is ipset's spelling: "10.244.0.5,tcp:8080,10.244.0.5".
func (l LoopBack) String() string {
	return fmt.Sprintf("%s,%s:%d,%s", l.IP, setProto(l.Protocol), l.Port, l.IP)
}

func setProto(p corev1.Protocol) string {
	switch p {
	case corev1.ProtocolUDP:
		return "udp"
	case corev1.ProtocolSCTP:
		return "sctp"
	}
	return "tcp"
}

func compareLoopBack(a, b LoopBack) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.Protocol, b.Protocol)
}

// Sets is the backend's edge to ipset: the one set it owns, LoopBackSet.
// NewSets is the real one (netlink), FakeSets keeps it in memory.
type Sets interface {
	// EnsureSet creates LoopBackSet if it is missing (an existing one is
	// kept with its entries).
	EnsureSet() error
	// Entries lists the set's entries.
	Entries() ([]LoopBack, error)
	Add(LoopBack) error
	Del(LoopBack) error
	// DestroySet removes the set; a missing one is not an error. It fails
	// while a rule still refers to the set, so rules go first.
	DestroySet() error
}
