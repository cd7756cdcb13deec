package nftables

import (
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// A partial sync that looks only at the ports a snapshot's Changed names
// must leave the same table as one that compares every port. Random
// changes to 12 Services (endpoints, node ports, affinity, Local
// policies, Services coming and going) go to two proxiers: one gets the
// tracker's Changed, the other the same snapshots without it.
func TestChangedPortsOnlyGiveTheSameTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fastFake, fast := newFakeProxier()
	slowFake, slow := newFakeProxier()
	cur := proxytest.Random(rng, nil, 12, nodeIP)
	cur.Seq = 1
	mustSync(t, fast, cur, true)
	mustSync(t, slow, withoutChanged(cur), true)
	for step := range 300 {
		next := proxytest.Random(rng, cur, 1+rng.IntN(3), nodeIP)
		next.Seq = cur.Seq + 1
		next.Changed = proxytest.Changed(cur, next)
		mustSync(t, fast, next, false)
		mustSync(t, slow, withoutChanged(next), false)
		if a, b := fastFake.Dump(), slowFake.Dump(); a != b {
			t.Fatalf("step %d: the tables differ:\n%s\n---\n%s", step, a, b)
		}
		cur = next
	}
}

// The proxier trusts Changed when the snapshot follows the applied one,
// and compares every port when it does not.
func TestChangedIsTrustedOnlyRightAfterTheAppliedSnapshot(t *testing.T) {
	fake, p := newFakeProxier()
	b := proxytest.New(nodeIP)
	web := b.Service("default", "web", "10.96.0.10", 80)
	b.Endpoints(web, proxytest.Ready("10.244.1.1", 8080))
	first := b.Snapshot()
	first.Seq = 1
	mustSync(t, p, first, true)

	moved := clonePorts(first)
	moved.Endpoints[web] = []proxy.Endpoint{proxytest.Ready("10.244.1.2", 8080)}
	moved.Seq, moved.Changed = 2, map[proxy.ServicePortName]struct{}{}
	mustSync(t, p, moved, false)
	if dump := fake.Dump(); !strings.Contains(dump, "10.244.1.1") || strings.Contains(dump, "10.244.1.2") {
		t.Fatalf("a change Changed does not name was looked at:\n%s", dump)
	}
	moved.Seq = 4 // snapshot 3 was never applied: Changed cannot be trusted
	mustSync(t, p, moved, false)
	if dump := fake.Dump(); strings.Contains(dump, "10.244.1.1") || !strings.Contains(dump, "10.244.1.2") {
		t.Fatalf("the change was missed after a gap in the snapshots:\n%s", dump)
	}
}

func clonePorts(s *proxy.Snapshot) *proxy.Snapshot {
	return &proxy.Snapshot{Services: maps.Clone(s.Services), Endpoints: maps.Clone(s.Endpoints), NodeIPs: s.NodeIPs}
}

func withoutChanged(s *proxy.Snapshot) *proxy.Snapshot {
	c := *s
	c.Changed = nil
	return &c
}
