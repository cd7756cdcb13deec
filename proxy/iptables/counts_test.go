package iptables

import (
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// ownedRules counts the rules of this mode's chains in the fake's table.
func ownedRules(f *Fake, table string) int {
	n := 0
	for _, c := range f.Chains(table) {
		if owned(c) {
			n += len(f.Rules(table, c))
		}
	}
	return n
}

// TestRuleCountsFollowTheKernel: after each sync the total is what the
// kernel (the fake) holds in our chains, and last is what that sync wrote:
// everything on a full sync, one service's chains on a partial one,
// nothing when nothing changed.
func TestRuleCountsFollowTheKernel(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, threeServices(), true)
	total, last := p.RuleCounts()
	for _, table := range tables {
		if want := ownedRules(f, table); total[table] != want || last[table] != want {
			t.Errorf("full sync, %s: total %d, last %d; want both %d", table, total[table], last[table], want)
		}
	}
	fullNAT := total[tableNAT]
	s := threeServices(func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
		b.Endpoints(n["c"], proxytest.Ready("10.244.1.3", 8080))
	})
	mustSync(t, p, s, false)
	total, last = p.RuleCounts()
	if want := ownedRules(f, tableNAT); total[tableNAT] != want || want >= fullNAT {
		t.Errorf("after c went to one endpoint: nat total %d, kernel %d, before %d", total[tableNAT], want, fullNAT)
	}
	if last[tableNAT] == 0 || last[tableNAT] >= total[tableNAT] || last[tableFilter] != 0 {
		t.Errorf("partial sync wrote nat %d of %d, filter %d: want only c's chains", last[tableNAT], total[tableNAT], last[tableFilter])
	}
	mustSync(t, p, s, false)
	if _, last = p.RuleCounts(); last[tableNAT] != 0 || last[tableFilter] != 0 {
		t.Errorf("a sync with no change wrote %v", last)
	}
}
