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
	cur := proxytest.Random(rng, nil, 12, nodeIP)
	cur.Seq = 1
	mustSync(t, patched, cur, true)
	for step := range 300 {
		next := proxytest.Random(rng, cur, 1+rng.IntN(3), nodeIP)
		next.Seq, next.Changed = cur.Seq+1, proxytest.Changed(cur, next)
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
