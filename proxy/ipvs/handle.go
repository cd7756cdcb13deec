package ipvs

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// ServiceKey identifies one IPVS virtual server: address, port, protocol.
type ServiceKey struct {
	Addr     netip.Addr
	Port     uint16
	Protocol corev1.Protocol
}

// String is "addr:port/PROTO".
func (k ServiceKey) String() string {
	return fmt.Sprintf("%s/%s", netip.AddrPortFrom(k.Addr, k.Port), k.Protocol)
}

// VirtualServer is one IPVS service as this package programs it (always
// NAT forwarding, IPv4, no firewall mark).
type VirtualServer struct {
	ServiceKey
	// Scheduler is the IPVS scheduler name: "rr", "lc", "sh", ...
	Scheduler string
	// Persistent is ClientIP session affinity; Timeout is its length in
	// seconds.
	Persistent bool
	Timeout    uint32
}

// RealServer is one IPVS destination of a virtual server.
type RealServer struct {
	Addr netip.AddrPort
	// Weight 0 takes no new connections (graceful removal).
	Weight int
	// ActiveConns and InactiveConns are the kernel's connection counts; they
	// are read back, never written.
	ActiveConns, InactiveConns int
}

// Handle is the part of the kernel's IPVS table this package uses. It is
// bound to one network namespace. NewHandle wraps github.com/moby/ipvs;
// FakeHandle keeps the same state in memory.
type Handle interface {
	ListServices() ([]VirtualServer, error)
	NewService(vs VirtualServer) error
	UpdateService(vs VirtualServer) error
	DelService(k ServiceKey) error
	ListDestinations(k ServiceKey) ([]RealServer, error)
	NewDestination(k ServiceKey, rs RealServer) error
	UpdateDestination(k ServiceKey, rs RealServer) error
	DelDestination(k ServiceKey, rs netip.AddrPort) error
	Close() error
}
