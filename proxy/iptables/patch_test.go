package iptables

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// Patching the last rule set with the ports a snapshot's Changed names
// gives buildRules's rule set, but for the order of the per-port rules in
// the shared chains (their fixed rules stay last); and a proxier synced
// that way holds what one synced in full holds.
func TestPatchedRulesMatchBuiltRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := proxy.DefaultConfig()
	patched, pf := newTest(t)
	cur := randomPorts(rng, nil, 12)
	cur.Seq = 1
	mustSync(t, patched, cur, true)
	for step := range 300 {
		next := randomPorts(rng, cur, 1+rng.IntN(3))
		next.Seq, next.Changed = cur.Seq+1, changedPorts(cur, next)
		got := patchRules(cfg, patched.lastWant, cur, next, next.Changed)
		assertSameRules(t, fmt.Sprintf("step %d", step), got, buildRules(cfg, next, 0))
		mustSync(t, patched, next, false)
		assertSameRulesAsAFullSync(t, pf, next)
		if t.Failed() {
			t.Fatalf("step %d", step)
		}
		cur = next
	}
}

// The proxier patches only a snapshot that follows the one it synced.
func TestPatchOnlyRightAfterTheLastSnapshot(t *testing.T) {
	p, f := newTest(t)
	first := services(3, 0)
	first.Seq = 1
	mustSync(t, p, first, true)
	moved := services(3, 1)
	moved.Seq, moved.Changed = 2, map[proxy.ServicePortName]struct{}{}
	mustSync(t, p, moved, false)
	if rules := strings.Join(f.Rules("nat", chainsOf(proxytest.Name("default", "s0", "TCP")).svc), "\n"); strings.Contains(rules, "10.244.3.1") {
		t.Fatalf("a change Changed does not name was looked at:\n%s", rules)
	}
	moved.Seq = 5
	mustSync(t, p, moved, false)
	assertSameRulesAsAFullSync(t, f, moved)
}

func assertSameRules(t *testing.T, what string, got, want ruleSet) {
	t.Helper()
	tails := newBuilder(proxy.DefaultConfig()).finish()
	for _, table := range tables {
		if g, w := slices.Sorted(maps.Keys(got[table])), slices.Sorted(maps.Keys(want[table])); !slices.Equal(g, w) {
			t.Errorf("%s: %s chains %v, want %v", what, table, g, w)
			continue
		}
		for c, w := range want[table] {
			g := got[table][c]
			if !shared(table, c) {
				if g != w {
					t.Errorf("%s: %s %s is\n%s\nwant\n%s", what, table, c, g, w)
				}
				continue
			}
			if tail := tails[table][c]; !strings.HasSuffix(g, tail) {
				t.Errorf("%s: %s %s does not end with its fixed rules %q:\n%s", what, table, c, tail, g)
			}
			gl, wl := slices.Collect(strings.Lines(g)), slices.Collect(strings.Lines(w))
			slices.Sort(gl)
			slices.Sort(wl)
			if !slices.Equal(gl, wl) {
				t.Errorf("%s: %s %s holds\n%s\nwant\n%s", what, table, c, g, w)
			}
		}
	}
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

// randomPorts is prev (nil: empty) with k of its 12 Services made anew at
// random (node ports, affinity, Local policies, external IPs, endpoints
// here and elsewhere, none), or removed.
func randomPorts(rng *rand.Rand, prev *proxy.Snapshot, k int) *proxy.Snapshot {
	out := &proxy.Snapshot{Services: map[proxy.ServicePortName]*proxy.ServicePort{}, Endpoints: map[proxy.ServicePortName][]proxy.Endpoint{}}
	if prev != nil {
		out.Services, out.Endpoints = maps.Clone(prev.Services), maps.Clone(prev.Endpoints)
	}
	for range k {
		i := rng.IntN(12)
		name := proxytest.Name("default", fmt.Sprintf("s%d", i), "TCP")
		delete(out.Services, name)
		delete(out.Endpoints, name)
		if rng.IntN(4) == 0 {
			continue
		}
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
			edits = append(edits, proxytest.ExternalIPs(fmt.Sprintf("192.0.2.%d", i+1)))
		}
		b := proxytest.New(nodeIP)
		n := b.Service("default", fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.2.%d", i+1), 80, edits...)
		seen := map[string]bool{}
		for j := range rng.IntN(4) {
			ip := fmt.Sprintf("10.244.%d.%d", i, j+rng.IntN(3))
			if seen[ip] {
				continue
			}
			seen[ip] = true
			if rng.IntN(2) == 0 {
				b.Endpoints(n, proxytest.Local(ip, 8080))
			} else {
				b.Endpoints(n, proxytest.Ready(ip, 8080))
			}
		}
		out.Services[name], out.Endpoints[name] = b.Snapshot().Services[n], b.Snapshot().Endpoints[n]
	}
	return out
}
