package main

import (
	"fmt"
	"maps"
	"net/netip"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
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

// remote is a ready endpoint ip:8080 on otherNode(j).
func remote(ip string, j int) proxy.Endpoint {
	e := proxytest.Ready(ip, 8080)
	e.NodeName = otherNode(j)
	return e
}

// buildSnapshot makes n Services with 3 endpoints each.
func buildSnapshot(n int) *proxy.Snapshot {
	b := proxytest.New()
	for i := 0; i < n; i++ {
		name := b.Service("bench", serviceName(i), serviceIP(i), 80)
		for j := 0; j < 3; j++ {
			if i == 0 {
				b.Endpoints(name, proxytest.Ready(podIP, int32(listenPort+j)))
			} else {
				b.Endpoints(name, remote(endpointIP(i, j), j))
			}
		}
	}
	return b.Snapshot()
}

// clone copies a snapshot's maps (the service ports and endpoint slices
// are shared, never modified).
func clone(s *proxy.Snapshot) *proxy.Snapshot {
	return &proxy.Snapshot{Services: maps.Clone(s.Services), Endpoints: maps.Clone(s.Endpoints), NodeIPs: s.NodeIPs}
}

// withExtraService is s plus Service i.
func withExtraService(s *proxy.Snapshot, i int) *proxy.Snapshot {
	out := clone(s)
	b := proxytest.New()
	name := b.Service("bench", fmt.Sprintf("svc-%d", i), serviceIP(i), 80)
	b.Endpoints(name, remote(endpointIP(i, 0), 0), remote(endpointIP(i, 1), 1), remote(endpointIP(i, 2), 2))
	for k, v := range b.Snapshot().Services {
		out.Services[k] = v
		out.Endpoints[k] = b.Snapshot().Endpoints[k]
	}
	return out
}

// withMovedEndpoint is s with Service svc's last endpoint moved to a new
// address (version v).
func withMovedEndpoint(s *proxy.Snapshot, svc, v int) *proxy.Snapshot {
	out := clone(s)
	name := proxytest.Name("bench", fmt.Sprintf("svc-%d", svc), "TCP")
	eps := append([]proxy.Endpoint(nil), out.Endpoints[name]...)
	eps[len(eps)-1] = remote(endpointIP(1_000_000+v, 0), len(eps)-1)
	out.Endpoints[name] = eps
	return out
}

// serviceName names Service i; Service 0 is the measured one.
func serviceName(i int) string {
	if i == 0 {
		return "svc-target"
	}
	return fmt.Sprintf("svc-%d", i)
}
