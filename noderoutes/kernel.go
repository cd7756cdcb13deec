package noderoutes

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Kernel is the routing table, as far as this package uses it.
type Kernel interface {
	// Owned lists the routes marked with Protocol in the main table.
	Owned() ([]Route, error)
	// Replace adds r, or changes the owned route to r.Dst.
	Replace(r Route) error
	// Delete removes the owned route r.
	Delete(r Route) error
	// Direct reports whether gw is a neighbour on a link of this host:
	// not one of its own addresses, and reached without a gateway.
	Direct(gw netip.Addr) (bool, error)
}

// Netlink is the Kernel of the current network namespace.
type Netlink struct{}

// Owned lists the main table's routes with Protocol, both families; an
// onlink one names its device.
func (Netlink) Owned() ([]Route, error) {
	filter := &netlink.Route{Protocol: Protocol, Table: unix.RT_TABLE_MAIN}
	rs, err := dump(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes of protocol %d: %w", Protocol, err)
	}
	var out []Route
	for _, r := range rs {
		if r.Dst == nil || r.Gw == nil {
			continue
		}
		dst, ok1 := prefixOf(r.Dst)
		gw, ok2 := netip.AddrFromSlice(r.Gw)
		if !ok1 || !ok2 {
			continue
		}
		route := Route{Dst: dst, Gw: gw.Unmap()}
		if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
			if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
				route.Dev = l.Attrs().Name
			}
		}
		out = append(out, route)
	}
	return out, nil
}

// Replace installs r (RTM_NEWROUTE with NLM_F_REPLACE).
func (Netlink) Replace(r Route) error {
	nr, err := toNetlink(r)
	if err == nil {
		err = netlink.RouteReplace(nr)
	}
	if err != nil {
		return fmt.Errorf("route %s: %w", r, err)
	}
	return nil
}

// Delete removes r; one already gone (its device too) is not an error.
func (Netlink) Delete(r Route) error {
	nr, err := toNetlink(r)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil
	}
	if err == nil {
		err = netlink.RouteDel(nr)
	}
	if err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete route %s: %w", r, err)
	}
	return nil
}

// Direct asks the kernel how it would reach gw.
func (Netlink) Direct(gw netip.Addr) (bool, error) {
	rs, err := netlink.RouteGet(gw.AsSlice())
	if err != nil {
		return false, fmt.Errorf("route to %s: %w", gw, err)
	}
	for _, r := range rs {
		if r.Type == unix.RTN_LOCAL || r.Gw != nil {
			return false, nil
		}
	}
	return len(rs) > 0, nil
}

func toNetlink(r Route) (*netlink.Route, error) {
	nr := &netlink.Route{
		Dst:      &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())},
		Gw:       r.Gw.AsSlice(),
		Protocol: Protocol,
		Table:    unix.RT_TABLE_MAIN,
	}
	if r.Dev != "" {
		l, err := netlink.LinkByName(r.Dev)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex, nr.Flags = l.Attrs().Index, int(netlink.FLAG_ONLINK)
	}
	return nr, nil
}

// dump runs a netlink dump again when the kernel says it was interrupted
// (the table changed meanwhile), up to 5 times.
func dump[T any](list func() ([]T, error)) ([]T, error) {
	for i := 0; ; i++ {
		out, err := list()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || i == 4 {
			return out, err
		}
	}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits), true
}

// Cleanup removes every route this package owns in the current network
// namespace, then the VXLAN device with its neighbour and FDB entries:
// `nodeagent agent --cleanup`.
func Cleanup(k Kernel, t Tunnel) error {
	have, err := k.Owned()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range have {
		errs = append(errs, k.Delete(r))
	}
	_, err = t.DeleteDevice(DeviceName)
	return errors.Join(append(errs, err)...)
}
