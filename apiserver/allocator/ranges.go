package allocator

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// IPRange is the service cluster IP range (--service-cluster-ip-range).
type IPRange struct {
	prefix netip.Prefix
}

// ParseIPRange parses a CIDR such as 10.96.0.0/12. It must hold at least
// the network address, the reserved first address and one more.
func ParseIPRange(cidr string) (IPRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return IPRange{}, fmt.Errorf("service cluster IP range %q: %w", cidr, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return IPRange{}, fmt.Errorf("service cluster IP range %q: only IPv4 is supported", cidr)
	}
	if p.Bits() > 29 {
		return IPRange{}, fmt.Errorf("service cluster IP range %q: too small (at most /29)", cidr)
	}
	return IPRange{prefix: p}, nil
}

func (r IPRange) String() string { return r.prefix.String() }

// size is the number of addresses in the range, network and broadcast
// addresses included.
func (r IPRange) size() uint64 { return 1 << (32 - r.prefix.Bits()) }

// First is the first usable address, which the kubernetes Service holds.
func (r IPRange) First() netip.Addr { return r.prefix.Addr().Next() }

// Contains reports whether ip may be allocated: inside the range and
// neither its network nor its broadcast address.
func (r IPRange) Contains(ip netip.Addr) bool {
	if !r.prefix.Contains(ip) {
		return false
	}
	off := r.offset(ip)
	return off != 0 && off != r.size()-1
}

func (r IPRange) offset(ip netip.Addr) uint64 {
	a, b := r.prefix.Addr().As4(), ip.As4()
	return uint64(be32(b) - be32(a))
}

// at is the address offset addresses into the range.
func (r IPRange) at(offset uint64) netip.Addr {
	n := be32(r.prefix.Addr().As4()) + uint32(offset)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// dynamic is the count of addresses handed out without being asked for:
// all but the network, the first (reserved) and the broadcast address;
// they are offsets 2 .. size-2.
func (r IPRange) dynamic() uint64 { return r.size() - 3 }

// dynamicAt is the i-th dynamically allocatable address.
func (r IPRange) dynamicAt(i uint64) netip.Addr { return r.at(i + 2) }

// PortRange is the node port range (--service-node-port-range), inclusive.
type PortRange struct {
	Base, Size int
}

// ParsePortRange parses "30000-32767" (or a single port).
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return PortRange{}, fmt.Errorf("service node port range %q: want FROM-TO within 1-65535", s)
	}
	return PortRange{Base: a, Size: b - a + 1}, nil
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Base, r.Base+r.Size-1) }

// Contains reports whether port is in the range.
func (r PortRange) Contains(port int32) bool {
	return int(port) >= r.Base && int(port) < r.Base+r.Size
}

// Rand picks an index in [0, n); tests inject a deterministic one.
type Rand func(n uint64) uint64
