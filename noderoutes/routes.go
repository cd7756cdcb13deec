package noderoutes

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Protocol is the rtm_protocol of the routes this package owns; nothing
// else is touched. 78 is not one of the kernel's or iproute2's numbers.
const Protocol = 78

// Route sends Dst through Gw; with Dev, out of that device with Gw taken
// as on its link ("onlink", the VXLAN backend's routes).
type Route struct {
	Dst netip.Prefix
	Gw  netip.Addr
	Dev string
}

func (r Route) String() string {
	s := r.Dst.String() + " via " + r.Gw.String()
	if r.Dev != "" {
		s += " dev " + r.Dev + " onlink"
	}
	return s
}

// Peer is what a route needs of another node.
type Peer struct {
	Node     string
	PodCIDRs []netip.Prefix
	IPs      []netip.Addr // InternalIPs
	// VTEPMAC is the MAC of its VXLAN device, from MACAnnotation ("" when
	// it has published none).
	VTEPMAC string
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
		if mac, ok := n.Annotations[MACAnnotation]; ok {
			if hw, err := net.ParseMAC(mac); err != nil || len(hw) != 6 {
				errs = append(errs, fmt.Errorf("node %s: annotation %s: %q is not a MAC address", n.Name, MACAnnotation, mac))
			} else {
				p.VTEPMAC = hw.String()
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
	return eachRange(own, peers, func(p Peer, dst netip.Prefix, ip netip.Addr) (Route, error) {
		return Route{Dst: dst, Gw: ip}, nil
	})
}

// eachRange calls via for each peer range that overlaps none of own or of
// the ranges before it, with the peer's InternalIP of its family, and
// returns the routes it makes sorted by destination; the ranges left out,
// and via's errors, are the problems.
func eachRange(own []netip.Prefix, peers []Peer, via func(Peer, netip.Prefix, netip.Addr) (Route, error)) ([]Route, []error) {
	var routes []Route
	var errs []error
	taken := slices.Clone(own)
	for _, p := range peers {
		for _, dst := range p.PodCIDRs {
			ip, ok := sameFamily(p.IPs, dst.Addr())
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("node %s: no InternalIP for pod CIDR %s", p.Node, dst))
			case overlapsAny(dst, taken):
				errs = append(errs, fmt.Errorf("node %s: pod CIDR %s overlaps this node's or another node's", p.Node, dst))
			default:
				taken = append(taken, dst)
				r, err := via(p, dst, ip)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				routes = append(routes, r)
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
// another gateway or device) and routes to delete (no longer wanted).
func Plan(want, have []Route) (replace, remove []Route) {
	return planBy(want, have, func(r Route) netip.Prefix { return r.Dst })
}

// planBy is Plan for any kernel object: key is what the kernel holds one
// of (a route's destination, a neighbour's address, an FDB entry's MAC);
// an object whose key is held with other values is replaced.
func planBy[T comparable, K comparable](want, have []T, key func(T) K) (replace, remove []T) {
	haveBy := map[K]T{}
	for _, x := range have {
		haveBy[key(x)] = x
	}
	wantBy := map[K]bool{}
	for _, x := range want {
		wantBy[key(x)] = true
		if h, ok := haveBy[key(x)]; !ok || h != x {
			replace = append(replace, x)
		}
	}
	for _, x := range have {
		if !wantBy[key(x)] {
			remove = append(remove, x)
		}
	}
	return replace, remove
}
