package ipvs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/internal/nsutil"
)

// netlinkSets is the real Sets: ipset's netlink protocol, each call on a
// thread inside the backend's netns (ipsets are per network namespace).
type netlinkSets struct{ netnsPath string }

var _ Sets = netlinkSets{}

// NewSets is the real Sets in the netns at netnsPath ("": the caller's).
func NewSets(netnsPath string) Sets { return netlinkSets{netnsPath: netnsPath} }

func (s netlinkSets) in(fn func() error) error {
	if s.netnsPath == "" {
		return fn()
	}
	return nsutil.Do(s.netnsPath, fn)
}

func (s netlinkSets) EnsureSet() error {
	return s.in(func() error {
		err := netlink.IpsetCreate(LoopBackSet, LoopBackSetType, netlink.IpsetCreateOptions{Family: unix.AF_INET})
		if errors.Is(err, unix.EEXIST) || errors.Is(err, nl.IPSetError(nl.IPSET_ERR_EXIST)) {
			return nil
		}
		return wrap(err, "create ipset %s (%s)", LoopBackSet, LoopBackSetType)
	})
}

func (s netlinkSets) Entries() ([]LoopBack, error) {
	var out []LoopBack
	err := s.in(func() error {
		res, err := netlink.IpsetList(LoopBackSet)
		if err != nil {
			return fmt.Errorf("list ipset %s: %w", LoopBackSet, err)
		}
		for _, e := range res.Entries {
			if l, ok := fromEntry(e); ok {
				out = append(out, l)
			}
		}
		return nil
	})
	return out, err
}

func (s netlinkSets) Add(l LoopBack) error {
	return s.in(func() error {
		return wrap(netlink.IpsetAdd(LoopBackSet, toEntry(l)), "add %s to ipset %s", l, LoopBackSet)
	})
}

func (s netlinkSets) Del(l LoopBack) error {
	return s.in(func() error {
		return wrap(netlink.IpsetDel(LoopBackSet, toEntry(l)), "delete %s from ipset %s", l, LoopBackSet)
	})
}

func (s netlinkSets) DestroySet() error {
	return s.in(func() error {
		err := netlink.IpsetDestroy(LoopBackSet)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return wrap(err, "destroy ipset %s", LoopBackSet)
	})
}

var protoNumbers = map[corev1.Protocol]uint8{corev1.ProtocolTCP: unix.IPPROTO_TCP, corev1.ProtocolUDP: unix.IPPROTO_UDP, corev1.ProtocolSCTP: unix.IPPROTO_SCTP}

func toEntry(l LoopBack) *netlink.IPSetEntry {
	port, proto := l.Port, protoNumbers[l.Protocol]
	ip := net.IP(l.IP.AsSlice())
	return &netlink.IPSetEntry{IP: ip, Port: &port, Protocol: &proto, IP2: ip}
}

func fromEntry(e netlink.IPSetEntry) (LoopBack, bool) {
	if e.Port == nil || e.Protocol == nil {
		return LoopBack{}, false
	}
	ip, ok := netip.AddrFromSlice(e.IP)
	if !ok {
		return LoopBack{}, false
	}
	for p, n := range protoNumbers {
		if n == *e.Protocol {
			return LoopBack{IP: ip.Unmap(), Port: *e.Port, Protocol: p}, true
		}
	}
	return LoopBack{}, false
}
