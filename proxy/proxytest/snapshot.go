// Package proxytest builds proxy Snapshots for backend tests.
package proxytest

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nodeagent/nodeagent/proxy"
)

// Builder makes a Snapshot one service port at a time.
type Builder struct{ s *proxy.Snapshot }

// New starts an empty snapshot whose node has nodeIPs.
func New(nodeIPs ...string) *Builder {
	s := &proxy.Snapshot{Services: map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: map[proxy.ServicePortName][]proxy.Endpoint{}}
	for _, ip := range nodeIPs {
		s.NodeIPs = append(s.NodeIPs, netip.MustParseAddr(ip))
	}
	return &Builder{s: s}
}

// Name is the ServicePortName of ns/name's unnamed port.
func Name(ns, name string, proto corev1.Protocol) proxy.ServicePortName {
	return proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}, Protocol: proto}
}

// Service adds a TCP service port ns/name at clusterIP:port; edit changes
// it further (node port, affinity, policies). It returns the port's name.
func (b *Builder) Service(ns, name, clusterIP string, port int32, edit ...func(*proxy.ServicePort)) proxy.ServicePortName {
	sp := &proxy.ServicePort{Name: Name(ns, name, corev1.ProtocolTCP), ClusterIP: netip.MustParseAddr(clusterIP),
		Port: port, Protocol: corev1.ProtocolTCP}
	for _, e := range edit {
		e(sp)
	}
	sp.Name.Protocol = sp.Protocol
	b.s.Services[sp.Name] = sp
	return sp.Name
}

// Endpoints adds endpoints to a service port (sorted as the tracker does).
func (b *Builder) Endpoints(n proxy.ServicePortName, eps ...proxy.Endpoint) *Builder {
	all := append(b.s.Endpoints[n], eps...)
	sort.Slice(all, func(i, j int) bool { return all[i].AddrPort().Compare(all[j].AddrPort()) < 0 })
	b.s.Endpoints[n] = all
	return b
}

// Snapshot returns what was built.
func (b *Builder) Snapshot() *proxy.Snapshot { return b.s }

// Ready is a ready, serving endpoint ip:port on another node.
func Ready(ip string, port int32) proxy.Endpoint {
	return proxy.Endpoint{IP: netip.MustParseAddr(ip), Port: port, Ready: true, Serving: true}
}

// Local is a ready, serving endpoint on this node.
func Local(ip string, port int32) proxy.Endpoint {
	e := Ready(ip, port)
	e.Local = true
	return e
}

// Terminating is a serving, terminating endpoint (not ready).
func Terminating(ip string, port int32) proxy.Endpoint {
	return proxy.Endpoint{IP: netip.MustParseAddr(ip), Port: port, Serving: true, Terminating: true}
}

// UDP makes a service port UDP.
func UDP(sp *proxy.ServicePort) { sp.Protocol = corev1.ProtocolUDP }

// NodePort gives a service port a node port.
func NodePort(p int32) func(*proxy.ServicePort) {
	return func(sp *proxy.ServicePort) { sp.NodePort = p }
}

// Affinity gives a service port ClientIP affinity with a timeout.
func Affinity(seconds int32) func(*proxy.ServicePort) {
	return func(sp *proxy.ServicePort) { sp.AffinityTimeout = seconds }
}

// ExternalIPs gives a service port external IPs.
func ExternalIPs(ips ...string) func(*proxy.ServicePort) {
	return func(sp *proxy.ServicePort) {
		for _, ip := range ips {
			sp.ExternalIPs = append(sp.ExternalIPs, netip.MustParseAddr(ip))
		}
	}
}

// ExternalLocal sets externalTrafficPolicy Local.
func ExternalLocal(sp *proxy.ServicePort) { sp.ExternalLocal = true }

// InternalLocal sets internalTrafficPolicy Local.
func InternalLocal(sp *proxy.ServicePort) { sp.InternalLocal = true }
