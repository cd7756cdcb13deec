package nftables

import (
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

func TestClusterIP(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Ready("10.244.1.5", 8080), pt.Ready("10.244.2.6", 8080), pt.Local("10.244.0.7", 8080))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	eps := []string{"10.244.1.5:8080", "10.244.2.6:8080", "10.244.0.7:8080"}

	t.Run("from a pod", func(t *testing.T) { assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, eps...) })
	t.Run("from the node: masqueraded", func(t *testing.T) {
		assertBalanced(t, tr.trace(fromNode(tcp(nodeIP, "10.96.0.10", 80))), true, eps...)
	})
	t.Run("from outside the cluster CIDR: masqueraded", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(outsider, "10.96.0.10", 80)), true, eps...)
	})
	t.Run("another port is not touched", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 81)), false, "10.96.0.10:81")
	})
	t.Run("UDP to a TCP port is not touched", func(t *testing.T) {
		pkt := tcp(podIP, "10.96.0.10", 80)
		pkt.proto = "udp"
		assertBalanced(t, tr.trace(pkt), false, "10.96.0.10:80")
	})
	t.Run("hairpin: a pod reaching itself is masqueraded", func(t *testing.T) {
		for _, o := range tr.trace(tcp("10.244.1.5", "10.96.0.10", 80)) {
			if want := o.dst.String() == "10.244.1.5:8080"; o.masq != want {
				t.Errorf("to %s: masqueraded=%t, want %t", o.dst, o.masq, want)
			}
		}
	})
}

func TestUDP(t *testing.T) {
	b := pt.New(nodeIP)
	dns := b.Service("kube-system", "dns", "10.96.0.53", 53, pt.UDP)
	b.Endpoints(dns, pt.Ready("10.244.1.5", 5353), pt.Ready("10.244.2.6", 5353))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	pkt := tcp(podIP, "10.96.0.53", 53)
	pkt.proto = "udp"
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(pkt), false, "10.244.1.5:5353", "10.244.2.6:5353")
	pkt.proto = "tcp"
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(pkt), false, "10.96.0.53:53")
}

func TestNodePortAndExternalIPs(t *testing.T) {
	for _, withNodeIPs := range []bool{true, false} {
		name := "node IPs from the snapshot"
		if !withNodeIPs {
			name = "fib daddr type local"
		}
		t.Run(name, func(t *testing.T) {
			b := pt.New(nodeIP)
			if !withNodeIPs {
				b = pt.New()
			}
			web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080), pt.ExternalIPs("203.0.113.7"))
			b.Endpoints(web, pt.Ready("10.244.1.5", 8080), pt.Ready("10.244.2.6", 8080))
			s := b.Snapshot()
			s.Services[web].LoadBalancerIPs = append(s.Services[web].LoadBalancerIPs, mustAddr("198.51.100.9"))
			fake, p := newFakeProxier()
			mustSync(t, p, s, true)
			tr := newTracer(t, fake, nodeIP)
			eps := []string{"10.244.1.5:8080", "10.244.2.6:8080"}
			assertBalanced(t, tr.trace(tcp(outsider, nodeIP, 30080)), true, eps...)
			assertBalanced(t, tr.trace(tcp(podIP, nodeIP, 30080)), true, eps...)
			assertBalanced(t, tr.trace(fromNode(tcp(nodeIP, nodeIP, 30080))), true, eps...)
			assertBalanced(t, tr.trace(tcp(outsider, "203.0.113.7", 80)), true, eps...)
			assertBalanced(t, tr.trace(tcp(outsider, "198.51.100.9", 80)), true, eps...)
			// Port 30080 on a non-local address is not a node port.
			assertBalanced(t, tr.trace(tcp(outsider, "192.168.1.77", 30080)), false, "192.168.1.77:30080")
			// Node ports do not answer on loopback.
			assertBalanced(t, tr.trace(fromNode(tcp(nodeIP, "127.0.0.1", 30080))), false, "127.0.0.1:30080")
		})
	}
}

func TestNoEndpointsRejected(t *testing.T) {
	b := pt.New(nodeIP)
	b.Service("ns", "empty", "10.96.0.20", 80, pt.NodePort(30020), pt.ExternalIPs("203.0.113.7"))
	b.Service("ns", "dns", "10.96.0.53", 53, pt.UDP)
	gone := b.Service("ns", "gone", "10.96.0.21", 80)
	b.Endpoints(gone, pt.Terminating("10.244.1.5", 80))
	b.Snapshot().Endpoints[gone][0].Serving = false
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	assertVerdict(t, tr.trace(tcp(podIP, "10.96.0.20", 80)), "reject with tcp reset")
	assertVerdict(t, tr.trace(fromNode(tcp(nodeIP, "10.96.0.20", 80))), "reject with tcp reset")
	assertVerdict(t, tr.trace(tcp(outsider, nodeIP, 30020)), "reject with tcp reset")
	assertVerdict(t, tr.trace(tcp(outsider, "203.0.113.7", 80)), "reject with tcp reset")
	assertVerdict(t, tr.trace(tcp(podIP, "10.96.0.21", 80)), "reject with tcp reset")
	udp := tcp(podIP, "10.96.0.53", 53)
	udp.proto = "udp"
	assertVerdict(t, tr.trace(udp), "reject")
}

func TestTerminatingFallback(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Terminating("10.244.1.5", 80), pt.Terminating("10.244.2.6", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, "10.244.1.5:80", "10.244.2.6:80")

	// A ready endpoint takes over from the terminating ones.
	b.Endpoints(web, pt.Ready("10.244.3.9", 80))
	mustSync(t, p, b.Snapshot(), false)
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.10", 80)), false, "10.244.3.9:80")
}

func TestExternalLocal(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080), pt.ExternalIPs("203.0.113.7"), pt.ExternalLocal)
	b.Endpoints(web, pt.Ready("10.244.1.5", 80), pt.Local("10.244.0.6", 80), pt.Local("10.244.0.7", 80))
	none := b.Service("ns", "none", "10.96.0.11", 80, pt.NodePort(30081), pt.ExternalLocal)
	b.Endpoints(none, pt.Ready("10.244.1.5", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	local := []string{"10.244.0.6:80", "10.244.0.7:80"}
	all := append([]string{"10.244.1.5:80"}, local...)

	t.Run("outside to a node port: local endpoints, source kept", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(outsider, nodeIP, 30080)), false, local...)
	})
	t.Run("outside to an external IP: local endpoints, source kept", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(outsider, "203.0.113.7", 80)), false, local...)
	})
	t.Run("a pod is cluster traffic", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(podIP, "203.0.113.7", 80)), false, all...)
		assertBalanced(t, tr.trace(tcp(podIP, nodeIP, 30080)), false, all...)
	})
	t.Run("the node is cluster traffic, masqueraded", func(t *testing.T) {
		assertBalanced(t, tr.trace(fromNode(tcp(nodeIP, nodeIP, 30080))), true, all...)
	})
	t.Run("the cluster IP is not affected", func(t *testing.T) {
		assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, all...)
	})
	t.Run("no local endpoint: outside dropped, pods served", func(t *testing.T) {
		assertVerdict(t, tr.trace(tcp(outsider, nodeIP, 30081)), "drop")
		assertBalanced(t, tr.trace(tcp(podIP, nodeIP, 30081)), false, "10.244.1.5:80")
		assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.11", 80)), false, "10.244.1.5:80")
	})
}

func TestInternalLocal(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080), pt.InternalLocal)
	b.Endpoints(web, pt.Ready("10.244.1.5", 80), pt.Local("10.244.0.6", 80))
	remote := b.Service("ns", "remote", "10.96.0.11", 80, pt.InternalLocal)
	b.Endpoints(remote, pt.Ready("10.244.1.5", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, "10.244.0.6:80")
	assertBalanced(t, tr.trace(tcp(outsider, nodeIP, 30080)), true, "10.244.0.6:80", "10.244.1.5:80")
	assertVerdict(t, tr.trace(tcp(podIP, "10.96.0.11", 80)), "reject with tcp reset")
}

func TestAffinity(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.Affinity(600), pt.NodePort(30080))
	b.Endpoints(web, pt.Ready("10.244.1.5", 80), pt.Ready("10.244.2.6", 80), pt.Ready("10.244.2.7", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	eps := []string{"10.244.1.5:80", "10.244.2.6:80", "10.244.2.7:80"}
	first := newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.10", 80))
	assertBalanced(t, first, false, eps...)
	for _, o := range first {
		tr := newTracer(t, fake, nodeIP)
		tr.remember(o)
		assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, o.dst.String())
		assertBalanced(t, tr.trace(tcp("10.244.3.4", "10.96.0.10", 80)), false, eps...)
		// The node port shares the cluster IP's affinity (same endpoints).
		assertBalanced(t, tr.trace(tcp(podIP, nodeIP, 30080)), true, o.dst.String())
	}
	set := fake.Table.Sets["aff-"+affinityName(web)+"-c-10.244.1.5-80"]
	if set == nil || set.Timeout == nil || set.Timeout.Seconds() != 600 {
		t.Fatalf("affinity set with a 600s timeout: %+v", set)
	}
}

func TestMasqueradeAcceptedInForward(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Ready("10.244.1.5", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	rules := fake.Table.Chains[chainFilterForward].Rules
	if got := rules[len(rules)-1].Rule; got != "meta mark & 0x4000 == 0x4000 accept" {
		t.Fatalf("last forward rule %q", got)
	}
}

func TestExternalLocalWithAffinity(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080), pt.ExternalLocal, pt.Affinity(60))
	b.Endpoints(web, pt.Ready("10.244.1.5", 80), pt.Local("10.244.0.6", 80), pt.Local("10.244.0.7", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	local := []string{"10.244.0.6:80", "10.244.0.7:80"}
	first := newTracer(t, fake, nodeIP).trace(tcp(outsider, nodeIP, 30080))
	assertBalanced(t, first, false, local...)
	for _, o := range first {
		tr := newTracer(t, fake, nodeIP)
		tr.remember(o)
		assertBalanced(t, tr.trace(tcp(outsider, nodeIP, 30080)), false, o.dst.String())
	}
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, nodeIP, 30080)), false,
		append([]string{"10.244.1.5:80"}, local...)...)
}

func TestNoClusterCIDR(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Ready("10.244.1.5", 80), pt.Ready("10.244.2.6", 80))
	fake := knftables.NewFake(Family, TableName)
	cfg := proxy.DefaultConfig()
	cfg.ClusterCIDR = netip.Prefix{}
	mustSync(t, New(cfg, fake, nil), b.Snapshot(), true)
	tr := newTracer(t, fake, nodeIP)
	eps := []string{"10.244.1.5:80", "10.244.2.6:80"}
	assertBalanced(t, tr.trace(fromNode(tcp(nodeIP, "10.96.0.10", 80))), false, eps...)
	for _, o := range tr.trace(tcp("10.244.1.5", "10.96.0.10", 80)) {
		if want := o.dst.String() == "10.244.1.5:80"; o.masq != want {
			t.Errorf("hairpin: to %s masqueraded=%t, want %t", o.dst, o.masq, want)
		}
	}
}

func TestOtherMasqueradeBit(t *testing.T) {
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80)
	b.Endpoints(web, pt.Ready("10.244.1.5", 80))
	fake := knftables.NewFake(Family, TableName)
	cfg := proxy.DefaultConfig()
	cfg.MasqueradeBit = 3
	mustSync(t, New(cfg, fake, nil), b.Snapshot(), true)
	if !strings.Contains(fake.Dump(), "meta mark set meta mark | 0x8") {
		t.Fatalf("mark 0x8 not used:\n%s", fake.Dump())
	}
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(fromNode(tcp(nodeIP, "10.96.0.10", 80))), true, "10.244.1.5:80")
}

func TestIPv6NodeIPsOnlyMeanFib(t *testing.T) {
	b := pt.New("fd00::2")
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30080))
	b.Endpoints(web, pt.Ready("10.244.1.5", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(outsider, nodeIP, 30080)), true, "10.244.1.5:80")
}
