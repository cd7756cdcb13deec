// Package noderoutes gives this node a route to every other node's pod
// range through that node's InternalIP ("host-gw", as flannel's backend of
// that name), so pods on different nodes reach each other with no tunnel
// where the nodes share a network segment. It computes the routes from the
// Node objects (spec.podCIDRs, status.addresses), compares them with the
// routes it owns in the kernel (marked by Protocol) and adds, replaces or
// removes only those. Cleanup removes every route it owns.
package noderoutes

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Protocol is the rtm_protocol of the routes this package owns; nothing
// else is touched. 78 is not one of the kernel's or iproute2's numbers.
const Protocol = 78

// Route sends Dst through Gw.
type Route struct {
	Dst netip.Prefix
	Gw  netip.Addr
}

func (r Route) String() string { return r.Dst.String() + " via " + r.Gw.String() }

// Peer is what a route needs of another node.
type Peer struct {
	Node     string
	PodCIDRs []netip.Prefix
	IPs      []netip.Addr // InternalIPs
}

// PeersOf reads the other nodes' pod ranges and InternalIPs; a node with a
// pod range that does not parse is reported and left out.
func PeersOf(self string, nodes []*corev1.Node) ([]Peer, []error) {
	var peers []Peer
	var errs []error
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		p := Peer{Node: n.Name}
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			pfx, err := netip.ParsePrefix(c)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: pod CIDR %q: %w", n.Name, c, err))
				continue
			}
			p.PodCIDRs = append(p.PodCIDRs, pfx.Masked())
		}
		for _, a := range n.Status.Addresses {
			if ip, err := netip.ParseAddr(a.Address); err == nil && a.Type == corev1.NodeInternalIP {
				p.IPs = append(p.IPs, ip)
			}
		}
		if len(p.PodCIDRs) > 0 {
			peers = append(peers, p)
		}
	}
	return peers, errs
}

// Desired is a route to each peer's pod range through its InternalIP of the
// same family, sorted by destination. A range that overlaps one of own (this
// node's pod ranges) or one already routed is left out and reported, as is
// a peer with no InternalIP of the range's family.
func Desired(own []netip.Prefix, peers []Peer) ([]Route, []error) {
	var routes []Route
	var errs []error
	taken := slices.Clone(own)
	for _, p := range peers {
		for _, dst := range p.PodCIDRs {
			gw, ok := sameFamily(p.IPs, dst.Addr())
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("node %s: no InternalIP for pod CIDR %s", p.Node, dst))
			case overlapsAny(dst, taken):
				errs = append(errs, fmt.Errorf("node %s: pod CIDR %s overlaps this node's or another node's", p.Node, dst))
			default:
				taken = append(taken, dst)
				routes = append(routes, Route{Dst: dst, Gw: gw})
			}
		}
	}
	slices.SortFunc(routes, func(a, b Route) int { return cmp.Compare(a.Dst.String(), b.Dst.String()) })
	return routes, errs
}

func sameFamily(ips []netip.Addr, like netip.Addr) (netip.Addr, bool) {
	for _, ip := range ips {
		if ip.Is4() == like.Is4() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

func overlapsAny(p netip.Prefix, set []netip.Prefix) bool {
	return slices.ContainsFunc(set, p.Overlaps)
}

// Plan is what turns have into want: routes to replace (missing, or with
// another gateway) and routes to delete (no longer wanted).
func Plan(want, have []Route) (replace, remove []Route) {
	haveBy := map[netip.Prefix]netip.Addr{}
	for _, r := range have {
		haveBy[r.Dst] = r.Gw
	}
	wantBy := map[netip.Prefix]bool{}
	for _, r := range want {
		wantBy[r.Dst] = true
		if gw, ok := haveBy[r.Dst]; !ok || gw != r.Gw {
			replace = append(replace, r)
		}
	}
	for _, r := range have {
		if !wantBy[r.Dst] {
			remove = append(remove, r)
		}
	}
	return replace, remove
}
