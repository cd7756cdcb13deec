package nftables

import (
	"hash/fnv"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

// collidingAffinity is two ClientIP-affinity Services whose port names
// have one 32-bit FNV-1a hash (found by a birthday search), each with its
// own endpoint.
func collidingAffinity(t *testing.T) (*proxy.Snapshot, proxy.ServicePortName, proxy.ServicePortName) {
	t.Helper()
	b := pt.New(nodeIP)
	a := b.Service("ns", "twxaveug", "10.96.0.20", 80, pt.Affinity(600))
	b.Endpoints(a, pt.Ready("10.244.1.20", 80))
	c := b.Service("ns", "blqbjwds", "10.96.0.21", 80, pt.Affinity(600))
	b.Endpoints(c, pt.Ready("10.244.1.21", 80))
	if fnv32a(a.String()) != fnv32a(c.String()) {
		t.Fatalf("%s and %s no longer collide under FNV-32a", a, c)
	}
	return b.Snapshot(), a, c
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// TestAffinityNamesDoNotCollide: two service ports whose names a 32-bit
// hash confuses get their own chains, and each reaches its own endpoint.
func TestAffinityNamesDoNotCollide(t *testing.T) {
	s, a, c := collidingAffinity(t)
	if na, nc := affinityName(a), affinityName(c); na == nc || len(na) < 16 {
		t.Fatalf("affinity names %q and %q", na, nc)
	}
	fake, p := newFakeProxier()
	mustSync(t, p, s, true)
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.20", 80)), false, "10.244.1.20:80")
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.21", 80)), false, "10.244.1.21:80")
}

// TestAffinityCollisionFailsSync: if two service ports still got one
// name, the sync fails naming both, instead of sending one Service's
// traffic to the other's endpoints.
func TestAffinityCollisionFailsSync(t *testing.T) {
	s, a, c := collidingAffinity(t)
	same := func(proxy.ServicePortName) string { return "same" }
	_, err := computeWith(proxy.DefaultConfig(), s, same)
	if err == nil {
		t.Fatal("compute with colliding affinity names succeeded")
	}
	for _, n := range []proxy.ServicePortName{a, c} {
		if !strings.Contains(err.Error(), n.String()) {
			t.Errorf("error %q does not name %s", err, n)
		}
	}
	// One port's cluster IP and node port still share their chains.
	b := pt.New(nodeIP)
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.Affinity(600), pt.NodePort(30080))
	b.Endpoints(web, pt.Ready("10.244.1.5", 80))
	if _, err := computeWith(proxy.DefaultConfig(), b.Snapshot(), same); err != nil {
		t.Fatalf("one service port: %v", err)
	}
}

// TestAffinityNameIsValid: short, and only characters nft takes in a
// name unquoted.
func TestAffinityNameIsValid(t *testing.T) {
	n := affinityName(pt.Name("a-very-long-namespace-name", strings.Repeat("x", 63), "SCTP"))
	if len(n) != 16 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("affinity name %q", n)
	}
}
