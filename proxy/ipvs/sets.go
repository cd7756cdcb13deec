package ipvs

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// The ipsets this backend owns: a fixed list (OwnSets), whatever the
// number of Services; only their entries change.
//
// LoopBackSet holds this node's endpoints as (IP, protocol:port, IP): the
// hairpin masquerade rule matches a packet whose destination IP and port
// and whose source IP are in it, that is, a pod that reached itself
// through a service (kube-proxy's KUBE-LOOP-BACK). Only that connection is
// masqueraded; a pod reaching another pod through a service keeps its
// address.
//
// The LOCAL-* sets hold what a Service with externalTrafficPolicy Local
// is reached on from outside, as IP,proto:port (hash:ip,port): its node
// port on each node IP (LocalNodePortSet), its external IPs
// (LocalExternalIPSet) and its load-balancer IPs (LocalLoadBalancerSet):
// kube-proxy's KUBE-NODE-PORT-LOCAL-*, KUBE-EXTERNAL-IP-LOCAL and
// KUBE-LOAD-BALANCER-LOCAL. A connection whose original destination is in
// one is not masqueraded, so the backend sees the client's address.
// kube-proxy keeps node ports in bitmap:port sets, one per protocol; the
// netlink library sends a protocol with every port, which the kernel's
// bitmap:port refuses, and the node IP makes the match exact (a cluster
// IP that happens to use a Local node port's number is not matched).
// ipset names have at most 31 characters, hence the short ones.
const (
	LoopBackSet          = "NODEAGENT-IPVS-LOOP-BACK"
	LocalNodePortSet     = "NODEAGENT-IPVS-LOCAL-NODE-PORT"
	LocalExternalIPSet   = "NODEAGENT-IPVS-LOCAL-EXT-IP"
	LocalLoadBalancerSet = "NODEAGENT-IPVS-LOCAL-LB-IP"
	LoopBackSetType      = "hash:ip,port,ip"
	ipPortSetType        = "hash:ip,port"
)

// SetSpec is one ipset we own: its name and type. Entries of a
// hash:ip,port,ip set are IP,proto:port,IP (the same IP twice), of a
// hash:ip,port set IP,proto:port.
type SetSpec struct{ Name, Type string }

// maxSetName is the longest ipset name the kernel takes
// (IPSET_MAXNAMELEN, 32 with the NUL).
const maxSetName = 31

// OwnSets are every ipset the backend makes, in the order they are made
// (and destroyed, once no rule refers to them).
func OwnSets() []SetSpec {
	return []SetSpec{
		{LoopBackSet, LoopBackSetType},
		{LocalNodePortSet, ipPortSetType},
		{LocalExternalIPSet, ipPortSetType},
		{LocalLoadBalancerSet, ipPortSetType},
	}
}

// Entry is one ipset entry: IP, protocol and port (a hash:ip,port,ip set
// repeats the IP).
type Entry struct {
	IP       netip.Addr
	Port     uint16
	Protocol corev1.Protocol
}

// Format is ipset's spelling of e in s: "10.244.0.5,tcp:8080,10.244.0.5"
// or "203.0.113.7,udp:53".
func (s SetSpec) Format(e Entry) string {
	if s.Type == ipPortSetType {
		return fmt.Sprintf("%s,%s:%d", e.IP, setProto(e.Protocol), e.Port)
	}
	return fmt.Sprintf("%s,%s:%d,%s", e.IP, setProto(e.Protocol), e.Port, e.IP)
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

func compareEntries(a, b Entry) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.Protocol, b.Protocol)
}

// Sets is the backend's edge to ipset: the sets of OwnSets. NewSets is the
// real one (netlink), FakeSets keeps them in memory.
type Sets interface {
	// EnsureSet creates s if it is missing (an existing one is kept with
	// its entries).
	EnsureSet(s SetSpec) error
	// Entries lists the set's entries.
	Entries(s SetSpec) ([]Entry, error)
	Add(s SetSpec, e Entry) error
	Del(s SetSpec, e Entry) error
	// DestroySet removes the set; a missing one is not an error. It fails
	// while a rule still refers to the set, so rules go first.
	DestroySet(s SetSpec) error
}

// destroySets destroys every set of OwnSets (after the rules that match
// them are gone).
func destroySets(sets Sets) error {
	var errs []error
	for _, s := range OwnSets() {
		if err := sets.DestroySet(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
