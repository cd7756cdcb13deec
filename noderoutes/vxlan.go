package noderoutes

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// DeviceName is the VXLAN device of the vxlan mode; a link of that name is
// this package's.
const DeviceName = "nodeagent.1"

// MACAnnotation on a Node is the MAC of that node's VXLAN device (its
// VTEP), which the other nodes put in their neighbour and FDB tables.
const MACAnnotation = "nodeagent.io/vxlan-vtep-mac"

const (
	// VNI is the VXLAN network identifier of every node's device.
	VNI = 1
	// VXLANPort is the UDP port of the encapsulated traffic (Linux's
	// historical VXLAN port, as flannel's).
	VXLANPort = 8472
	// vxlanOverhead is what encapsulation takes of the underlay's MTU:
	// outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14.
	vxlanOverhead = 50
)

// Device is the VXLAN device as the kernel should hold it.
type Device struct {
	Name     string
	VNI      int
	Port     int
	Local    netip.Addr // this node's InternalIP, the tunnel's source
	Underlay int        // index of the link holding Local
	MTU      int
	// Addr is the network address of this node's pod range, /32: the
	// source of what the node itself sends to other nodes' pods, and the
	// address the other nodes' routes to this node's pods go via.
	Addr netip.Prefix
}

// Underlay is the link that holds the node's InternalIP.
type Underlay struct {
	Index int
	MTU   int
}

// Neighbor maps a peer's device address to the peer's VTEP MAC.
type Neighbor struct {
	IP  netip.Addr
	MAC string
}

func (n Neighbor) String() string { return n.IP.String() + " lladdr " + n.MAC }

// FDBEntry sends the frames for MAC to the VTEP at Dst.
type FDBEntry struct {
	MAC string
	Dst netip.Addr
}

func (f FDBEntry) String() string { return f.MAC + " dst " + f.Dst.String() }

// Self is what the device needs of this node's own Node.
type Self struct {
	PodCIDRs []netip.Prefix
	IP       netip.Addr // IPv4 InternalIP
	MAC      string     // as published, "" when none
}

// SelfOf reads this node's pod ranges, IPv4 InternalIP and published MAC;
// it is an error when the Node has no IPv4 range or address yet.
func SelfOf(n *corev1.Node) (Self, error) {
	p, errs := PeersOf("", []*corev1.Node{n})
	if len(p) == 0 {
		return Self{}, errors.Join(append(errs, fmt.Errorf("node %s: no pod CIDR yet", n.Name))...)
	}
	s := Self{PodCIDRs: p[0].PodCIDRs, MAC: p[0].VTEPMAC}
	ip, ok := sameFamily(p[0].IPs, netip.IPv4Unspecified())
	if !ok {
		return Self{}, fmt.Errorf("node %s: no IPv4 InternalIP for the VXLAN device", n.Name)
	}
	s.IP = ip
	if _, ok := s.v4Range(); !ok {
		return Self{}, fmt.Errorf("node %s: no IPv4 pod CIDR for the VXLAN device", n.Name)
	}
	return s, nil
}

func (s Self) v4Range() (netip.Prefix, bool) {
	for _, p := range s.PodCIDRs {
		if p.Addr().Is4() {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// DeviceFor is the device of a node s describes, over underlay u.
func DeviceFor(s Self, u Underlay) Device {
	r, _ := s.v4Range()
	return Device{Name: DeviceName, VNI: VNI, Port: VXLANPort, Local: s.IP, Underlay: u.Index,
		MTU: u.MTU - vxlanOverhead, Addr: netip.PrefixFrom(r.Masked().Addr(), 32)}
}

// Tables are the peers' part of the vxlan mode: routes, neighbours and FDB
// entries.
type Tables struct {
	Routes    []Route
	Neighbors []Neighbor
	FDB       []FDBEntry
}

// DesiredVXLAN is, for each peer IPv4 pod range that overlaps none of own
// or of the others, a route via the range's network address out of the
// device, that address's neighbour entry (the peer's MAC) and the peer
// MAC's FDB entry (the peer's InternalIP). A peer with no MAC yet, or one
// another peer also claims, is a problem and left out.
func DesiredVXLAN(own []netip.Prefix, peers []Peer) (Tables, []error) {
	var t Tables
	owner := map[string]string{} // MAC -> node
	routes, errs := eachRange(own, peers, func(p Peer, dst netip.Prefix, ip netip.Addr) (Route, error) {
		switch {
		case !dst.Addr().Is4():
			return Route{}, fmt.Errorf("node %s: pod CIDR %s: the vxlan mode routes IPv4 alone", p.Node, dst)
		case p.VTEPMAC == "":
			return Route{}, fmt.Errorf("node %s: no VTEP MAC published yet (annotation %s)", p.Node, MACAnnotation)
		case owner[p.VTEPMAC] != "" && owner[p.VTEPMAC] != p.Node:
			return Route{}, fmt.Errorf("node %s: VTEP MAC %s is node %s's too", p.Node, p.VTEPMAC, owner[p.VTEPMAC])
		}
		if owner[p.VTEPMAC] == "" {
			owner[p.VTEPMAC] = p.Node
			t.FDB = append(t.FDB, FDBEntry{MAC: p.VTEPMAC, Dst: ip})
		}
		t.Neighbors = append(t.Neighbors, Neighbor{IP: dst.Addr(), MAC: p.VTEPMAC})
		return Route{Dst: dst, Gw: dst.Addr(), Dev: DeviceName}, nil
	})
	t.Routes = routes
	return t, errs
}

// PlanNeighbors is what turns have into want, keyed by address.
func PlanNeighbors(want, have []Neighbor) (set, remove []Neighbor) {
	return planBy(want, have, func(n Neighbor) netip.Addr { return n.IP })
}

// PlanFDB is what turns have into want, keyed by MAC.
func PlanFDB(want, have []FDBEntry) (set, remove []FDBEntry) {
	return planBy(want, have, func(f FDBEntry) string { return f.MAC })
}
