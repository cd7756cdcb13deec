package main

import (
	"fmt"
	"net/netip"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/nodeagent/nodeagent/proxy"
)

// firstServiceAddr is the measured Service's address: its endpoints are
// the lab's real listeners, so connects through it complete. It is named
// svc-target so that its rules sort after every svc-N: in iptables mode a
// packet to it walks the whole KUBE-SERVICES chain, the worst case.
const firstServiceAddr = "10.96.0.10:80"

// serviceIP is the cluster IP of Service i.
func serviceIP(i int) string {
	a := netip.MustParseAddr("10.96.0.10").As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) + uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// endpointIP is the address of endpoint j of Service i (in 10.245.0.0/16
// and up: nothing answers there; only Service 0 has real endpoints).
func endpointIP(i, j int) string {
	v := uint32(i*3 + j + 1)
	return netip.AddrFrom4([4]byte{10, byte(245 + v>>16), byte(v >> 8), byte(v)}).String()
}

// otherNode is the node of endpoint j of every Service but the measured
// one: pods of a cluster spread over other nodes, named in their
// EndpointSlices as an EndpointSlice controller names them (the measured
// Service's endpoints are this lab's listeners, of no named node).
func otherNode(j int) string { return fmt.Sprintf("bench-other-%d", j) }

// benchNode is the name the measured proxy runs under: no bench endpoint
// is on it.
const benchNode = "bench-node"

// benchTracker is the proxy's change tracker holding n Services with 3
// endpoints each, as its informers would have delivered them. The bench
// takes each sync's snapshot from it, as the proxy does.
func benchTracker(n int) *proxy.Tracker {
	tr := proxy.NewTracker(benchNode)
	for i := 0; i < n; i++ {
		addService(tr, i)
	}
	return tr
}

// addService gives the tracker Service i and its EndpointSlices.
func addService(tr *proxy.Tracker, i int) {
	name := serviceName(i)
	svc := benchService(name)
	svc.Spec.ClusterIP = serviceIP(i)
	svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	tr.UpdateService(svc)
	if i > 0 {
		tr.UpdateSlice(benchSlice(name, i))
		return
	}
	// The measured Service's endpoints are the lab's listeners, one port
	// each: one slice per endpoint.
	for j := 0; j < 3; j++ {
		es := benchSlice(name, i)
		es.Name = fmt.Sprintf("%s-%d", name, j)
		es.Ports[0].Port = ptr.To(int32(listenPort + j))
		es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{podIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}}
		tr.UpdateSlice(es)
	}
}

// moveEndpoint gives the tracker Service i's slice with its last endpoint
// moved to a new address (version v), as one pod replaced by another
// would.
func moveEndpoint(tr *proxy.Tracker, i, v int) {
	es := benchSlice(serviceName(i), i)
	es.Endpoints[len(es.Endpoints)-1].Addresses = []string{endpointIP(1_000_000+v, 0)}
	tr.UpdateSlice(es)
}

// serviceName names Service i; Service 0 is the measured one.
func serviceName(i int) string {
	if i == 0 {
		return "svc-target"
	}
	return fmt.Sprintf("svc-%d", i)
}
