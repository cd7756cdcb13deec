package ipvs

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/moby/ipvs"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// flagPersistent is IP_VS_SVC_F_PERSISTENT.
const flagPersistent = 0x1

// mobyHandle is the real Handle: a generic-netlink socket bound to a netns.
type mobyHandle struct{ h *ipvs.Handle }

var _ Handle = &mobyHandle{}

// NewHandle opens an IPVS handle bound to the network namespace at
// netnsPath ("" is the caller's). Call CheckKernel first: on a kernel
// without IPVS the library still returns a handle whose every call fails.
func NewHandle(netnsPath string) (Handle, error) {
	h, err := ipvs.New(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("open IPVS handle in %q: %w", netnsPath, err)
	}
	return &mobyHandle{h: h}, nil
}

func (m *mobyHandle) Close() error { m.h.Close(); return nil }

func (m *mobyHandle) ListServices() ([]VirtualServer, error) {
	svcs, err := m.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("list IPVS services: %w", err)
	}
	out := make([]VirtualServer, 0, len(svcs))
	for _, s := range svcs {
		if vs, ok := fromMobyService(s); ok {
			out = append(out, vs)
		}
	}
	return out, nil
}

func (m *mobyHandle) NewService(vs VirtualServer) error {
	return wrap(m.h.NewService(toMobyService(vs)), "create IPVS service %s", vs.ServiceKey)
}

func (m *mobyHandle) UpdateService(vs VirtualServer) error {
	return wrap(m.h.UpdateService(toMobyService(vs)), "update IPVS service %s", vs.ServiceKey)
}

func (m *mobyHandle) DelService(k ServiceKey) error {
	return wrap(m.h.DelService(toMobyService(VirtualServer{ServiceKey: k})), "delete IPVS service %s", k)
}

func (m *mobyHandle) ListDestinations(k ServiceKey) ([]RealServer, error) {
	ds, err := m.h.GetDestinations(toMobyService(VirtualServer{ServiceKey: k}))
	if err != nil {
		return nil, fmt.Errorf("list destinations of %s: %w", k, err)
	}
	out := make([]RealServer, 0, len(ds))
	for _, d := range ds {
		a, ok := netip.AddrFromSlice(d.Address)
		if !ok {
			continue
		}
		out = append(out, RealServer{Addr: netip.AddrPortFrom(a.Unmap(), d.Port), Weight: d.Weight,
			ActiveConns: d.ActiveConnections, InactiveConns: d.InactiveConnections})
	}
	return out, nil
}

func (m *mobyHandle) NewDestination(k ServiceKey, rs RealServer) error {
	err := m.h.NewDestination(toMobyService(VirtualServer{ServiceKey: k}), toMobyDest(rs))
	return wrap(err, "add destination %s to %s", rs.Addr, k)
}

func (m *mobyHandle) UpdateDestination(k ServiceKey, rs RealServer) error {
	err := m.h.UpdateDestination(toMobyService(VirtualServer{ServiceKey: k}), toMobyDest(rs))
	return wrap(err, "update destination %s of %s", rs.Addr, k)
}

func (m *mobyHandle) DelDestination(k ServiceKey, a netip.AddrPort) error {
	err := m.h.DelDestination(toMobyService(VirtualServer{ServiceKey: k}), toMobyDest(RealServer{Addr: a}))
	return wrap(err, "delete destination %s of %s", a, k)
}

func toMobyService(vs VirtualServer) *ipvs.Service {
	s := &ipvs.Service{Address: net.IP(vs.Addr.AsSlice()), Port: vs.Port, Protocol: protoNumber(vs.Protocol),
		SchedName: vs.Scheduler, AddressFamily: unix.AF_INET, Netmask: 0xffffffff}
	if vs.Persistent {
		s.Flags, s.Timeout = flagPersistent, vs.Timeout
	}
	return s
}

func fromMobyService(s *ipvs.Service) (VirtualServer, bool) {
	a, ok := netip.AddrFromSlice(s.Address)
	proto, known := protoName(s.Protocol)
	if !ok || !known || s.FWMark != 0 {
		return VirtualServer{}, false
	}
	vs := VirtualServer{ServiceKey: ServiceKey{Addr: a.Unmap(), Port: s.Port, Protocol: proto}, Scheduler: s.SchedName}
	if s.Flags&flagPersistent != 0 {
		vs.Persistent, vs.Timeout = true, s.Timeout
	}
	return vs, true
}

func toMobyDest(rs RealServer) *ipvs.Destination {
	return &ipvs.Destination{Address: net.IP(rs.Addr.Addr().AsSlice()), Port: rs.Addr.Port(), Weight: rs.Weight,
		ConnectionFlags: ipvs.ConnectionFlagMasq, AddressFamily: unix.AF_INET}
}

func protoNumber(p corev1.Protocol) uint16 {
	switch p {
	case corev1.ProtocolUDP:
		return unix.IPPROTO_UDP
	case corev1.ProtocolSCTP:
		return unix.IPPROTO_SCTP
	}
	return unix.IPPROTO_TCP
}

func protoName(n uint16) (corev1.Protocol, bool) {
	switch n {
	case unix.IPPROTO_TCP:
		return corev1.ProtocolTCP, true
	case unix.IPPROTO_UDP:
		return corev1.ProtocolUDP, true
	case unix.IPPROTO_SCTP:
		return corev1.ProtocolSCTP, true
	}
	return "", false
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
