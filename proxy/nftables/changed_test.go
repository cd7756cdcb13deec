package nftables

import (
	"fmt"
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
	cur := randomSnapshot(rng, nil, 12)
	cur.Seq = 1
	mustSync(t, fast, cur, true)
	mustSync(t, slow, withoutChanged(cur), true)
	for step := range 300 {
		next := randomSnapshot(rng, cur, 1+rng.IntN(3))
		next.Seq = cur.Seq + 1
		next.Changed = changedPorts(cur, next)
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

// changedPorts names the ports whose ServicePort or endpoints differ.
func changedPorts(a, b *proxy.Snapshot) map[proxy.ServicePortName]struct{} {
	out := map[proxy.ServicePortName]struct{}{}
	for _, s := range []*proxy.Snapshot{a, b} {
		for name := range s.Services {
			if a.Services[name] != b.Services[name] || fmt.Sprint(a.Endpoints[name]) != fmt.Sprint(b.Endpoints[name]) {
				out[name] = struct{}{}
			}
		}
	}
	return out
}

// randomSnapshot is prev (nil: empty) with k of its 12 Services made anew
// at random, or removed.
func randomSnapshot(rng *rand.Rand, prev *proxy.Snapshot, k int) *proxy.Snapshot {
	out := &proxy.Snapshot{Services: map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: map[proxy.ServicePortName][]proxy.Endpoint{}}
	if prev != nil {
		out = clonePorts(prev)
	}
	out.NodeIPs = proxytest.New(nodeIP).Snapshot().NodeIPs
	for range k {
		i := rng.IntN(12)
		name := proxytest.Name("default", fmt.Sprintf("s%d", i), "TCP")
		delete(out.Services, name)
		delete(out.Endpoints, name)
		if rng.IntN(4) == 0 {
			continue
		}
		b := proxytest.New(nodeIP)
		var edits []func(*proxy.ServicePort)
		if rng.IntN(2) == 0 {
			edits = append(edits, proxytest.NodePort(int32(30000+i)))
		}
		if rng.IntN(3) == 0 {
			edits = append(edits, proxytest.Affinity(int32(60+rng.IntN(2))))
		}
		if rng.IntN(3) == 0 {
			edits = append(edits, proxytest.ExternalLocal)
		}
		if rng.IntN(4) == 0 {
			edits = append(edits, proxytest.InternalLocal)
		}
		n := b.Service("default", fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.0.%d", 10+i), 80, edits...)
		var eps []proxy.Endpoint
		seen := map[string]bool{}
		for j := range rng.IntN(4) {
			ip := fmt.Sprintf("10.244.%d.%d", i, j+rng.IntN(3))
			if seen[ip] {
				continue
			}
			seen[ip] = true
			if rng.IntN(2) == 0 {
				eps = append(eps, proxytest.Local(ip, 8080))
			} else {
				eps = append(eps, proxytest.Ready(ip, 8080))
			}
		}
		b.Endpoints(n, eps...)
		out.Services[name] = b.Snapshot().Services[n]
		out.Endpoints[name] = b.Snapshot().Endpoints[n]
	}
	return out
}
