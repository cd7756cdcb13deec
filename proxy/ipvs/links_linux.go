package ipvs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netlinkLinks is the real Links, bound to one netns through its own
// netlink handle (no namespace switching).
type netlinkLinks struct{ h *netlink.Handle }

var _ Links = &netlinkLinks{}

// NewLinks opens a netlink handle in the netns at netnsPath ("": the
// caller's).
func NewLinks(netnsPath string) (Links, error) {
	h, err := openNetlink(netnsPath, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return &netlinkLinks{h: h}, nil
}

func openNetlink(netnsPath string, family int) (*netlink.Handle, error) {
	ns := netns.None()
	if netnsPath != "" {
		var err error
		if ns, err = netns.GetFromPath(netnsPath); err != nil {
			return nil, fmt.Errorf("open netns %s: %w", netnsPath, err)
		}
		defer ns.Close()
	}
	h, err := netlink.NewHandleAt(ns, family)
	if err != nil {
		return nil, fmt.Errorf("open netlink handle in %q: %w", netnsPath, err)
	}
	return h, nil
}

func (l *netlinkLinks) Close() error { l.h.Close(); return nil }

func (l *netlinkLinks) link() (netlink.Link, error) {
	link, err := l.h.LinkByName(LinkName)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", LinkName, err)
	}
	return link, nil
}

func (l *netlinkLinks) EnsureLink() error {
	if link, err := l.link(); err != nil || link != nil {
		return err
	}
	d := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: LinkName}}
	if err := l.h.LinkAdd(d); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create dummy link %s: %w", LinkName, err)
	}
	return nil
}

func (l *netlinkLinks) DeleteLink() error {
	link, err := l.link()
	if err != nil || link == nil {
		return err
	}
	if err := l.h.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", LinkName, err)
	}
	return nil
}

func (l *netlinkLinks) ListAddrs() ([]netip.Addr, error) {
	link, err := l.link()
	if err != nil || link == nil {
		return nil, err
	}
	var addrs []netlink.Addr
	for try := 0; try < 3; try++ { // dumps can be interrupted: retry
		if addrs, err = l.h.AddrList(link, unix.AF_INET); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", LinkName, err)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

func (l *netlinkLinks) AddAddr(a netip.Addr) error {
	return l.changeAddr(a, true)
}

func (l *netlinkLinks) DelAddr(a netip.Addr) error {
	return l.changeAddr(a, false)
}

func (l *netlinkLinks) changeAddr(a netip.Addr, add bool) error {
	link, err := l.link()
	if err != nil {
		return err
	}
	if link == nil {
		if add {
			return fmt.Errorf("bind %s: link %s is missing", a, LinkName)
		}
		return nil
	}
	na := &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(32, 32)}}
	if add {
		err = l.h.AddrAdd(link, na)
		if errors.Is(err, unix.EEXIST) {
			err = nil
		}
		return wrap(err, "bind %s to %s", a, LinkName)
	}
	err = l.h.AddrDel(link, na)
	if errors.Is(err, unix.EADDRNOTAVAIL) {
		err = nil
	}
	return wrap(err, "unbind %s from %s", a, LinkName)
}
