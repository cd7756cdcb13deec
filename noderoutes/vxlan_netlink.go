package noderoutes

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Tunnel is the kernel's side of the VXLAN device, as far as this package
// uses it. A device that is not there has no neighbours or FDB entries.
type Tunnel interface {
	// Underlay finds the link that holds local.
	Underlay(local netip.Addr) (Underlay, error)
	// EnsureDevice makes the device d describes, up, with d.Addr its only
	// IPv4 address (a VXLAN device of that name with other VXLAN settings
	// is made again), and returns its MAC.
	EnsureDevice(d Device) (string, error)
	// DeleteDevice removes the device named name, if there is one (its
	// routes, neighbours and FDB entries go with it); it reports whether
	// there was.
	DeleteDevice(name string) (bool, error)
	Neighbors(dev string) ([]Neighbor, error)
	SetNeighbor(dev string, n Neighbor) error
	DeleteNeighbor(dev string, n Neighbor) error
	FDB(dev string) ([]FDBEntry, error)
	SetFDB(dev string, f FDBEntry) error
	DeleteFDB(dev string, f FDBEntry) error
}

var (
	_ Kernel = Netlink{}
	_ Tunnel = Netlink{}
)

// Underlay finds local among the addresses of every link.
func (Netlink) Underlay(local netip.Addr) (Underlay, error) {
	addrs, err := dump(func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return Underlay{}, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); !ok || ip.Unmap() != local {
			continue
		}
		l, err := netlink.LinkByIndex(a.LinkIndex)
		if err != nil {
			return Underlay{}, fmt.Errorf("link of %s: %w", local, err)
		}
		return Underlay{Index: a.LinkIndex, MTU: l.Attrs().MTU}, nil
	}
	return Underlay{}, fmt.Errorf("no link holds %s, the node's InternalIP", local)
}

// EnsureDevice creates or fixes the device, its address, MTU and state.
func (Netlink) EnsureDevice(d Device) (string, error) {
	l, err := vxlanLink(d)
	if err != nil {
		return "", err
	}
	if err := onlyAddr(l, d.Addr); err != nil {
		return "", err
	}
	if l.Attrs().MTU != d.MTU {
		if err := netlink.LinkSetMTU(l, d.MTU); err != nil {
			return "", fmt.Errorf("%s: mtu %d: %w", d.Name, d.MTU, err)
		}
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(l); err != nil {
			return "", fmt.Errorf("%s: up: %w", d.Name, err)
		}
	}
	return l.Attrs().HardwareAddr.String(), nil
}

// vxlanLink is the device of d's name, made (again) when missing or unlike
// d; a link of that name that is no VXLAN device is an error, left alone.
func vxlanLink(d Device) (netlink.Link, error) {
	l, err := netlink.LinkByName(d.Name)
	switch {
	case errors.As(err, &netlink.LinkNotFoundError{}):
	case err != nil:
		return nil, fmt.Errorf("link %s: %w", d.Name, err)
	default:
		v, ok := l.(*netlink.Vxlan)
		if !ok {
			return nil, fmt.Errorf("link %s is a %s device, not VXLAN: left alone", d.Name, l.Type())
		}
		if sameVXLAN(v, d) {
			return v, nil
		}
		if err := netlink.LinkDel(v); err != nil {
			return nil, fmt.Errorf("remove %s to make it again: %w", d.Name, err)
		}
	}
	want := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: d.Name, MTU: d.MTU}, VxlanId: d.VNI,
		VtepDevIndex: d.Underlay, SrcAddr: d.Local.AsSlice(), Port: d.Port, Learning: false}
	if err := netlink.LinkAdd(want); err != nil {
		return nil, fmt.Errorf("add VXLAN device %s: %w", d.Name, err)
	}
	return netlink.LinkByName(d.Name)
}

func sameVXLAN(v *netlink.Vxlan, d Device) bool {
	local, _ := netip.AddrFromSlice(v.SrcAddr)
	return v.VxlanId == d.VNI && v.Port == d.Port && !v.Learning && local.Unmap() == d.Local && v.VtepDevIndex == d.Underlay
}

// onlyAddr gives l the IPv4 address a and takes its other IPv4 ones away
// (a pod range that changed).
func onlyAddr(l netlink.Link, a netip.Prefix) error {
	have, err := dump(func() ([]netlink.Addr, error) { return netlink.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("%s: addresses: %w", l.Attrs().Name, err)
	}
	found := false
	for _, h := range have {
		if p, ok := prefixOf(h.IPNet); ok && p == a {
			found = true
			continue
		}
		if err := netlink.AddrDel(l, &h); err != nil {
			return fmt.Errorf("%s: remove address %s: %w", l.Attrs().Name, h.IPNet, err)
		}
	}
	if found {
		return nil
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), a.Addr().BitLen())}}
	if err := netlink.AddrAdd(l, addr); err != nil {
		return fmt.Errorf("%s: address %s: %w", l.Attrs().Name, a, err)
	}
	return nil
}

// DeleteDevice removes the link named name.
func (Netlink) DeleteDevice(name string) (bool, error) {
	l, err := netlink.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return false, nil
	}
	if err == nil {
		err = netlink.LinkDel(l)
	}
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", name, err)
	}
	return true, nil
}

// Neighbors are the device's permanent IPv4 neighbour entries.
func (Netlink) Neighbors(dev string) ([]Neighbor, error) {
	ns, err := neighList(dev, netlink.FAMILY_V4)
	var out []Neighbor
	for _, n := range ns {
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && n.State&netlink.NUD_PERMANENT != 0 && len(n.HardwareAddr) == 6 {
			out = append(out, Neighbor{IP: ip.Unmap(), MAC: n.HardwareAddr.String()})
		}
	}
	return out, err
}

// SetNeighbor adds or replaces the permanent entry n.
func (Netlink) SetNeighbor(dev string, n Neighbor) error {
	return neighDo(netlink.NeighSet, dev, "neighbour "+n.String(), func(idx int) (*netlink.Neigh, error) {
		mac, err := net.ParseMAC(n.MAC)
		return &netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT,
			Type: unix.RTN_UNICAST, IP: n.IP.AsSlice(), HardwareAddr: mac}, err
	})
}

// DeleteNeighbor removes the entry n.
func (Netlink) DeleteNeighbor(dev string, n Neighbor) error {
	return neighDo(netlink.NeighDel, dev, "delete neighbour "+n.String(), func(idx int) (*netlink.Neigh, error) {
		return &netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4, IP: n.IP.AsSlice()}, nil
	})
}

// FDB are the device's forwarding entries with a remote VTEP.
func (Netlink) FDB(dev string) ([]FDBEntry, error) {
	ns, err := neighList(dev, unix.AF_BRIDGE)
	var out []FDBEntry
	for _, n := range ns {
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && len(n.HardwareAddr) == 6 {
			out = append(out, FDBEntry{MAC: n.HardwareAddr.String(), Dst: ip.Unmap()})
		}
	}
	return out, err
}

// SetFDB adds or replaces the permanent entry f.
func (Netlink) SetFDB(dev string, f FDBEntry) error {
	return neighDo(netlink.NeighSet, dev, "fdb "+f.String(), fdbNeigh(f))
}

// DeleteFDB removes the entry f.
func (Netlink) DeleteFDB(dev string, f FDBEntry) error {
	return neighDo(netlink.NeighDel, dev, "delete fdb "+f.String(), fdbNeigh(f))
}

func fdbNeigh(f FDBEntry) func(int) (*netlink.Neigh, error) {
	return func(idx int) (*netlink.Neigh, error) {
		mac, err := net.ParseMAC(f.MAC)
		return &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_PERMANENT, IP: f.Dst.AsSlice(), HardwareAddr: mac}, err
	}
}

// neighList dumps dev's entries of family; no device, no entries.
func neighList(dev string, family int) ([]netlink.Neigh, error) {
	l, err := netlink.LinkByName(dev)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", dev, err)
	}
	ns, err := dump(func() ([]netlink.Neigh, error) { return netlink.NeighList(l.Attrs().Index, family) })
	if err != nil {
		return nil, fmt.Errorf("%s: list neighbours: %w", dev, err)
	}
	return ns, nil
}

// neighDo runs op on the entry build makes for dev's index.
func neighDo(op func(*netlink.Neigh) error, dev, what string, build func(int) (*netlink.Neigh, error)) error {
	l, err := netlink.LinkByName(dev)
	var n *netlink.Neigh
	if err == nil {
		n, err = build(l.Attrs().Index)
	}
	if err == nil {
		err = op(n)
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, dev, err)
	}
	return nil
}
