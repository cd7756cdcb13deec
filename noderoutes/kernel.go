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

// Owned lists the main table's routes with Protocol, both families.
func (Netlink) Owned() ([]Route, error) {
	filter := &netlink.Route{Protocol: Protocol, Table: unix.RT_TABLE_MAIN}
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
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
		if ok1 && ok2 {
			out = append(out, Route{Dst: dst, Gw: gw.Unmap()})
		}
	}
	return out, nil
}

// Replace installs r (RTM_NEWROUTE with NLM_F_REPLACE).
func (Netlink) Replace(r Route) error {
	if err := netlink.RouteReplace(toNetlink(r)); err != nil {
		return fmt.Errorf("route %s: %w", r, err)
	}
	return nil
}

// Delete removes r; one already gone is not an error.
func (Netlink) Delete(r Route) error {
	if err := netlink.RouteDel(toNetlink(r)); err != nil && !errors.Is(err, unix.ESRCH) {
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

func toNetlink(r Route) *netlink.Route {
	return &netlink.Route{
		Dst:      &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())},
		Gw:       r.Gw.AsSlice(),
		Protocol: Protocol,
		Table:    unix.RT_TABLE_MAIN,
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
// namespace: `nodeagent agent --cleanup`.
func Cleanup(k Kernel) error {
	have, err := k.Owned()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range have {
		errs = append(errs, k.Delete(r))
	}
	return errors.Join(errs...)
}
