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

func (s netlinkSets) EnsureSet(set SetSpec) error {
	return s.in(func() error {
		err := netlink.IpsetCreate(set.Name, set.Type, netlink.IpsetCreateOptions{Family: unix.AF_INET})
		if errors.Is(err, unix.EEXIST) || errors.Is(err, nl.IPSetError(nl.IPSET_ERR_EXIST)) {
			return nil
		}
		return wrap(err, "create ipset %s (%s)", set.Name, set.Type)
	})
}

func (s netlinkSets) Entries(set SetSpec) ([]Entry, error) {
	var out []Entry
	err := s.in(func() error {
		res, err := netlink.IpsetList(set.Name)
		if err != nil {
			return fmt.Errorf("list ipset %s: %w", set.Name, err)
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

func (s netlinkSets) Add(set SetSpec, e Entry) error {
	return s.in(func() error {
		return wrap(netlink.IpsetAdd(set.Name, toEntry(set, e)), "add %s to ipset %s", set.Format(e), set.Name)
	})
}

func (s netlinkSets) Del(set SetSpec, e Entry) error {
	return s.in(func() error {
		return wrap(netlink.IpsetDel(set.Name, toEntry(set, e)), "delete %s from ipset %s", set.Format(e), set.Name)
	})
}

func (s netlinkSets) DestroySet(set SetSpec) error {
	return s.in(func() error {
		err := netlink.IpsetDestroy(set.Name)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return wrap(err, "destroy ipset %s", set.Name)
	})
}

var protoNumbers = map[corev1.Protocol]uint8{corev1.ProtocolTCP: unix.IPPROTO_TCP, corev1.ProtocolUDP: unix.IPPROTO_UDP, corev1.ProtocolSCTP: unix.IPPROTO_SCTP}

// toEntry is e as the netlink entry of a set of set's type.
func toEntry(set SetSpec, e Entry) *netlink.IPSetEntry {
	port, proto := e.Port, protoNumbers[e.Protocol]
	ip := net.IP(e.IP.AsSlice())
	out := &netlink.IPSetEntry{IP: ip, Port: &port, Protocol: &proto}
	if set.Type == LoopBackSetType {
		out.IP2 = ip
	}
	return out
}

func fromEntry(e netlink.IPSetEntry) (Entry, bool) {
	if e.Port == nil || e.Protocol == nil {
		return Entry{}, false
	}
	ip, ok := netip.AddrFromSlice(e.IP)
	if !ok {
		return Entry{}, false
	}
	for p, n := range protoNumbers {
		if n == *e.Protocol {
			return Entry{IP: ip.Unmap(), Port: *e.Port, Protocol: p}, true
		}
	}
	return Entry{}, false
}
