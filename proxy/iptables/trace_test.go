package iptables

import (
	"math"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// webSnapshot: one TCP service with a node port and three endpoints.
func webSnapshot(eps []proxy.Endpoint, edit ...func(*proxy.ServicePort)) (*proxy.Snapshot, proxy.ServicePortName) {
	b := proxytest.New(nodeIP)
	n := b.Service("default", "web", "10.96.0.10", 80, append([]func(*proxy.ServicePort){proxytest.NodePort(30080)}, edit...)...)
	b.Endpoints(n, eps...)
	return b.Snapshot(), n
}

func TestClusterIPFromPodReachesEveryEndpointUnmasqueraded(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints)
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, ipsOf(threeEndpoints)...)
}

func TestClusterIPFromNodeIsMasqueraded(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints)
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, nodeAddr, "10.96.0.10:80", true, testEnv), true, ipsOf(threeEndpoints)...)
}

func TestOtherPortOrAddressIsUntouched(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints)
	mustSync(t, p, s, true)
	for _, dst := range []string{"10.96.0.10:81", "10.96.0.11:80", nodeIP + ":30081"} {
		for _, path := range trace(t, f, podClient, dst, false, testEnv) {
			if path.DNAT || path.Verdict != "ACCEPT" {
				t.Errorf("%s: %+v, want untouched", dst, path)
			}
		}
	}
}

func TestNodePortOnNodeIPReachesEndpointsMasqueraded(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints)
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), true, ipsOf(threeEndpoints)...)
	expectReach(t, trace(t, f, nodeAddr, nodeIP+":30080", true, testEnv), true, ipsOf(threeEndpoints)...)
}

func TestExternalIPReachesEndpoints(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints, proxytest.ExternalIPs("203.0.113.5"))
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, outsideClient, "203.0.113.5:80", false, testEnv), true, ipsOf(threeEndpoints)...)
}

func TestNoEndpointsRejected(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(nil, proxytest.ExternalIPs("203.0.113.5"))
	mustSync(t, p, s, true)
	expectVerdict(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), "REJECT")
	expectVerdict(t, trace(t, f, nodeAddr, "10.96.0.10:80", true, testEnv), "REJECT")
	expectVerdict(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), "REJECT")
	expectVerdict(t, trace(t, f, outsideClient, "203.0.113.5:80", false, testEnv), "REJECT")
	if got := f.Chains("nat"); strings.Contains(strings.Join(got, " "), prefixSvc) {
		t.Errorf("nat chains %v: want no KUBE-SVC chain without endpoints", got)
	}
}

func TestTerminatingFallback(t *testing.T) {
	p, f := newTest(t)
	term := []proxy.Endpoint{proxytest.Terminating("10.244.1.1", 8080), proxytest.Terminating("10.244.2.2", 8080)}
	s, _ := webSnapshot(term)
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, ipsOf(term)...)

	s, _ = webSnapshot(append(term, proxytest.Ready("10.244.3.3", 8080)))
	mustSync(t, p, s, false)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, "10.244.3.3:8080")
}

func TestExternalLocalOnlyLocalEndpointUnmasqueraded(t *testing.T) {
	p, f := newTest(t)
	eps := []proxy.Endpoint{proxytest.Ready("10.244.1.1", 8080), proxytest.Local("10.244.2.2", 8080), proxytest.Ready("10.244.3.3", 8080)}
	s, _ := webSnapshot(eps, proxytest.ExternalLocal, proxytest.ExternalIPs("203.0.113.5"))
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), false, "10.244.2.2:8080")
	expectReach(t, trace(t, f, outsideClient, "203.0.113.5:80", false, testEnv), false, "10.244.2.2:8080")
	// Pods and the node itself use the cluster policy.
	expectReach(t, trace(t, f, podClient, nodeIP+":30080", false, testEnv), false, ipsOf(eps)...)
	expectReach(t, trace(t, f, nodeAddr, nodeIP+":30080", true, testEnv), true, ipsOf(eps)...)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, ipsOf(eps)...)
}

func TestExternalLocalWithoutLocalEndpointsDrops(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints, proxytest.ExternalLocal)
	mustSync(t, p, s, true)
	expectVerdict(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), "DROP")
	expectReach(t, trace(t, f, podClient, nodeIP+":30080", false, testEnv), false, ipsOf(threeEndpoints)...)
}

func TestInternalLocalClusterIPOnlyLocal(t *testing.T) {
	p, f := newTest(t)
	eps := []proxy.Endpoint{proxytest.Ready("10.244.1.1", 8080), proxytest.Local("10.244.2.2", 8080)}
	s, _ := webSnapshot(eps, proxytest.InternalLocal)
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, "10.244.2.2:8080")
	// External traffic keeps the cluster policy: every endpoint.
	expectReach(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), true, ipsOf(eps)...)

	s, _ = webSnapshot([]proxy.Endpoint{proxytest.Ready("10.244.1.1", 8080)}, proxytest.InternalLocal)
	mustSync(t, p, s, false)
	expectVerdict(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), "REJECT")
	expectReach(t, trace(t, f, outsideClient, nodeIP+":30080", false, testEnv), true, "10.244.1.1:8080")
}

func TestAffinity(t *testing.T) {
	p, f := newTest(t)
	s, n := webSnapshot(threeEndpoints, proxytest.Affinity(600))
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, podClient, "10.96.0.10:80", false, testEnv), false, ipsOf(threeEndpoints)...)

	sep := sepChain(n.String(), "TCP", "10.244.2.2:8080")
	hit := TraceEnv{LocalIPs: testEnv.LocalIPs, AffinityHits: map[string]bool{sep: true}}
	paths := trace(t, f, podClient, "10.96.0.10:80", false, hit)
	expectReach(t, paths, false, "10.244.2.2:8080")
	if len(paths) != 1 || paths[0].Probability != 1 {
		t.Errorf("affinity hit: %d paths (first probability %v), want one certain path", len(paths), paths[0].Probability)
	}
	rules := strings.Join(f.Rules("nat", sep), "\n")
	if !strings.Contains(rules, "-m recent --set --name "+sep) {
		t.Errorf("%s does not record the client:\n%s", sep, rules)
	}
}

func TestHairpinIsMasqueraded(t *testing.T) {
	p, f := newTest(t)
	s, _ := webSnapshot(threeEndpoints[:1])
	mustSync(t, p, s, true)
	expectReach(t, trace(t, f, threeEndpoints[0].IP, "10.96.0.10:80", false, testEnv), true, "10.244.1.1:8080")
}

func TestUDPService(t *testing.T) {
	p, f := newTest(t)
	b := proxytest.New(nodeIP)
	n := b.Service("kube-system", "dns", "10.96.0.53", 53, proxytest.UDP)
	b.Endpoints(n, proxytest.Ready("10.244.1.53", 53))
	mustSync(t, p, b.Snapshot(), true)
	paths, err := f.Trace(Packet{Src: podClient, Dst: n4("10.96.0.53"), Proto: "udp", DPort: 53}, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	expectReach(t, paths, false, "10.244.1.53:53")
	paths, _ = f.Trace(Packet{Src: podClient, Dst: n4("10.96.0.53"), Proto: "tcp", DPort: 53}, testEnv)
	if paths[0].DNAT {
		t.Errorf("TCP to a UDP service port was DNATed: %+v", paths[0])
	}
}

func TestStatisticGivesEqualShares(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 16} {
		p, f := newTest(t)
		var eps []proxy.Endpoint
		for i := range n {
			eps = append(eps, proxytest.Ready("10.244.9."+itoa(i+1), 8080))
		}
		s, _ := webSnapshot(eps)
		mustSync(t, p, s, true)
		share := map[string]float64{}
		for _, path := range trace(t, f, podClient, "10.96.0.10:80", false, testEnv) {
			share[path.Dest.String()] += path.Probability
		}
		if len(share) != n {
			t.Fatalf("%d endpoints: reached %d", n, len(share))
		}
		for dest, got := range share {
			if math.Abs(got-1/float64(n)) > 1e-9 {
				t.Errorf("%d endpoints: %s gets %v, want %v", n, dest, got, 1/float64(n))
			}
		}
	}
}

func TestIPv6IsLeftToIp6tables(t *testing.T) {
	p, f := newTest(t)
	b := proxytest.New(nodeIP)
	b.Service("default", "v6", "fd00::10", 80)
	n := b.Service("default", "mixed", "10.96.0.20", 80, proxytest.ExternalIPs("2001:db8::5"))
	b.Endpoints(n, proxytest.Ready("10.244.1.1", 8080), proxytest.Ready("fd00:244::1", 8080))
	mustSync(t, p, b.Snapshot(), true)
	out := dump(t, f)
	if strings.Contains(out, "fd00") || strings.Contains(out, "2001:db8") {
		t.Errorf("IPv6 addresses in iptables rules:\n%s", out)
	}
	expectReach(t, trace(t, f, podClient, "10.96.0.20:80", false, testEnv), false, "10.244.1.1:8080")
}
