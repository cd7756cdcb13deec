package ipvs

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

func key(addr string, port uint16, proto corev1.Protocol) ServiceKey {
	return ServiceKey{Addr: netip.MustParseAddr(addr), Port: port, Protocol: proto}
}

func tcp(addr string, port uint16) ServiceKey { return key(addr, port, corev1.ProtocolTCP) }

func aps(s ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range s {
		out = append(out, netip.MustParseAddrPort(a))
	}
	return out
}

// want is one expected virtual server of a Compute case.
type want struct {
	vs    VirtualServer
	dests []netip.AddrPort
}

func TestCompute(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *pt.Builder)
		sched string
		want  []want
		addrs []string
	}{{
		name: "cluster IP with two endpoints",
		build: func(b *pt.Builder) {
			n := b.Service("ns", "web", "10.96.0.10", 80)
			b.Endpoints(n, pt.Ready("10.244.1.3", 8080), pt.Ready("10.244.2.4", 8080))
		},
		want:  []want{{VirtualServer{tcp("10.96.0.10", 80), "rr", false, 0}, aps("10.244.1.3:8080", "10.244.2.4:8080")}},
		addrs: []string{"10.96.0.10"},
	}, {
		name: "node port on each node IP, not bound to the link",
		build: func(b *pt.Builder) {
			n := b.Service("ns", "np", "10.96.0.11", 80, pt.NodePort(30080))
			b.Endpoints(n, pt.Ready("10.244.1.3", 80))
		},
		want: []want{
			{VirtualServer{tcp("10.96.0.11", 80), "rr", false, 0}, aps("10.244.1.3:80")},
			{VirtualServer{tcp("192.168.50.2", 30080), "rr", false, 0}, aps("10.244.1.3:80")},
			{VirtualServer{tcp("192.168.60.2", 30080), "rr", false, 0}, aps("10.244.1.3:80")},
		},
		addrs: []string{"10.96.0.11"},
	}, {
		name: "affinity makes the virtual server persistent",
		build: func(b *pt.Builder) {
			n := b.Service("ns", "sticky", "10.96.0.12", 443, pt.Affinity(10800))
			b.Endpoints(n, pt.Ready("10.244.1.3", 443))
		},
		want:  []want{{VirtualServer{tcp("10.96.0.12", 443), "rr", true, 10800}, aps("10.244.1.3:443")}},
		addrs: []string{"10.96.0.12"},
	}, {
		name:  "scheduler from the config, UDP",
		sched: "sh",
		build: func(b *pt.Builder) {
			n := b.Service("kube-system", "dns", "10.96.0.53", 53, pt.UDP)
			b.Endpoints(n, pt.Ready("10.244.1.9", 53))
		},
		want:  []want{{VirtualServer{key("10.96.0.53", 53, corev1.ProtocolUDP), "sh", false, 0}, aps("10.244.1.9:53")}},
		addrs: []string{"10.96.0.53"},
	}, {
		name: "external IP bound; ExternalLocal with no local endpoint has no real servers",
		build: func(b *pt.Builder) {
			n := b.Service("ns", "ext", "10.96.0.13", 80, pt.ExternalIPs("203.0.113.7"), pt.ExternalLocal)
			b.Endpoints(n, pt.Ready("10.244.2.4", 80))
		},
		want: []want{
			{VirtualServer{tcp("10.96.0.13", 80), "rr", false, 0}, aps("10.244.2.4:80")},
			{VirtualServer{tcp("203.0.113.7", 80), "rr", false, 0}, nil},
		},
		addrs: []string{"10.96.0.13", "203.0.113.7"},
	}, {
		name: "terminating endpoints only when none is ready; no endpoints: no real servers",
		build: func(b *pt.Builder) {
			n := b.Service("ns", "roll", "10.96.0.14", 80)
			b.Endpoints(n, pt.Terminating("10.244.1.3", 80))
			b.Service("ns", "empty", "10.96.0.15", 80)
		},
		want: []want{
			{VirtualServer{tcp("10.96.0.14", 80), "rr", false, 0}, aps("10.244.1.3:80")},
			{VirtualServer{tcp("10.96.0.15", 80), "rr", false, 0}, nil},
		},
		addrs: []string{"10.96.0.14", "10.96.0.15"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := pt.New("192.168.50.2", "192.168.60.2")
			c.build(b)
			sched := c.sched
			if sched == "" {
				sched = "rr"
			}
			got := Compute(b.Snapshot(), sched)
			checkDesired(t, got, c.want, c.addrs)
		})
	}
}

func checkDesired(t *testing.T, got Desired, want []want, addrs []string) {
	t.Helper()
	if len(got.Services) != len(want) {
		t.Errorf("got %d virtual servers, want %d: %v", len(got.Services), len(want), got.Services)
	}
	for _, w := range want {
		if vs := got.Services[w.vs.ServiceKey]; vs != w.vs {
			t.Errorf("virtual server %s = %+v, want %+v", w.vs.ServiceKey, vs, w.vs)
		}
		if d := got.Dests[w.vs.ServiceKey]; !slices.Equal(d, w.dests) {
			t.Errorf("real servers of %s = %v, want %v", w.vs.ServiceKey, d, w.dests)
		}
	}
	var gotAddrs []string
	for _, a := range got.Addrs {
		gotAddrs = append(gotAddrs, a.String())
	}
	if !slices.Equal(gotAddrs, addrs) {
		t.Errorf("bound addresses = %v, want %v", gotAddrs, addrs)
	}
}

func TestComputeInternalLocalAndLoadBalancer(t *testing.T) {
	b := pt.New("192.168.50.2")
	n := b.Service("ns", "lb", "10.96.0.20", 80, pt.InternalLocal, func(sp *proxy.ServicePort) {
		sp.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("198.51.100.9")}
	})
	b.Endpoints(n, pt.Local("10.244.0.5", 80), pt.Ready("10.244.1.5", 80))
	got := Compute(b.Snapshot(), "rr")
	checkDesired(t, got, []want{
		{VirtualServer{tcp("10.96.0.20", 80), "rr", false, 0}, aps("10.244.0.5:80")},
		{VirtualServer{tcp("198.51.100.9", 80), "rr", false, 0}, aps("10.244.0.5:80", "10.244.1.5:80")},
	}, []string{"10.96.0.20", "198.51.100.9"})
}
