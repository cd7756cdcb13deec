package proxy

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ServicePortName names one port of one Service: what a backend programs
// as a unit (kube-proxy's ServicePortName).
type ServicePortName struct {
	types.NamespacedName
	// Port is the port's name; "" for a Service's single unnamed port.
	Port     string
	Protocol corev1.Protocol
}

// String is "ns/name:port/PROTO" (":port" left out for an unnamed port).
func (n ServicePortName) String() string {
	if n.Port == "" {
		return fmt.Sprintf("%s/%s", n.NamespacedName, n.Protocol)
	}
	return fmt.Sprintf("%s:%s/%s", n.NamespacedName, n.Port, n.Protocol)
}

// ServicePort is one port of a Service with a cluster IP (headless and
// ExternalName Services are not programmed): the address a client uses.
type ServicePort struct {
	Name      ServicePortName
	ClusterIP netip.Addr
	Port      int32
	Protocol  corev1.Protocol
	// NodePort is the node port; 0: none.
	NodePort int32
	// ExternalIPs are spec.externalIPs (IPv4 only).
	ExternalIPs []netip.Addr
	// LoadBalancerIPs are status.loadBalancer.ingress[].ip (IPv4 only).
	LoadBalancerIPs []netip.Addr
	// AffinityTimeout is sessionAffinity ClientIP's timeout in seconds; 0
	// means no affinity.
	AffinityTimeout int32
	// ExternalLocal is externalTrafficPolicy Local: traffic to node ports,
	// external and load-balancer IPs goes only to this node's endpoints and
	// keeps its source address.
	ExternalLocal bool
	// InternalLocal is internalTrafficPolicy Local: traffic to the cluster
	// IP goes only to this node's endpoints.
	InternalLocal bool
	// HealthCheckNodePort is a LoadBalancer's with externalTrafficPolicy
	// Local: where load balancers ask whether this node has endpoints; 0:
	// none.
	HealthCheckNodePort int32
}

// Endpoint is one address:port that serves a ServicePort.
type Endpoint struct {
	IP   netip.Addr
	Port int32
	// Ready, Serving and Terminating are the EndpointSlice conditions (a
	// nil condition is read as kube-proxy does: ready and serving true,
	// terminating false).
	Ready, Serving, Terminating bool
	// NodeName is the endpoint's node; Local says it is this node.
	NodeName string
	Local    bool
}

// String is "ip:port".
func (e Endpoint) String() string {
	return netip.AddrPortFrom(e.IP, uint16(e.Port)).String()
}

// AddrPort is the endpoint's address and port.
func (e Endpoint) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(e.IP, uint16(e.Port))
}

// Snapshot is the desired state every backend programs: pure data, built by
// the change tracker from Services and EndpointSlices. Backends must not
// modify it.
type Snapshot struct {
	Services map[ServicePortName]*ServicePort
	// Endpoints of each service port, sorted by address and port, without
	// duplicates; a port with none is absent or empty.
	Endpoints map[ServicePortName][]Endpoint
	// NodeIPs are the node's addresses that node ports answer on.
	NodeIPs []netip.Addr
	// Seq numbers a tracker's snapshots, from 1; Changed then names every
	// service port whose ServicePort or endpoints may differ from those of
	// snapshot Seq-1 (added, changed or gone). A backend that applied
	// snapshot Seq-1 may look at these ports only; with Changed nil (a
	// snapshot made by hand) it compares every port.
	Seq     uint64
	Changed map[ServicePortName]struct{}
}

// ChangedSince returns the service ports that changed since snapshot
// applied (see Seq), and false when s cannot tell: it was not made right
// after applied by the same tracker.
func (s *Snapshot) ChangedSince(applied uint64) (map[ServicePortName]struct{}, bool) {
	if s.Changed == nil || applied == 0 || s.Seq != applied+1 {
		return nil, false
	}
	return s.Changed, true
}

// Backend programs the kernel from a Snapshot: the iptables, nftables and
// ipvs modes each implement it.
type Backend interface {
	// Mode is the proxy mode's name: "iptables", "nftables" or "ipvs".
	Mode() string
	// Sync makes the kernel match s, in one transaction (the iptables
	// mode cuts a very large sync into several restores, each leaving
	// every jump valid). A backend keeps
	// what it last applied in memory and sends only the difference; full
	// (the first sync, the periodic resync, after an error) rewrites
	// everything it owns instead, without reading the kernel back.
	Sync(ctx context.Context, s *Snapshot, full bool) error
	// Cleanup removes every rule, chain, table, set, virtual server and
	// address this mode ever made; nothing of it is left when it returns.
	Cleanup(ctx context.Context) error
}

// Config is what every backend needs beyond the snapshot.
type Config struct {
	// ClusterCIDR is the pods' range: traffic to a cluster IP from outside
	// it (the node itself, another host) is masqueraded. Invalid: masquerade
	// no cluster-IP traffic but hairpin.
	ClusterCIDR netip.Prefix
	// MasqueradeBit is the packet-mark bit that asks for masquerade
	// (kube-proxy's default is 14, i.e. 0x4000).
	MasqueradeBit int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), MasqueradeBit: 14}
}

// MasqueradeMark is the mark value of MasqueradeBit.
func (c Config) MasqueradeMark() uint32 { return 1 << uint(c.MasqueradeBit) }
