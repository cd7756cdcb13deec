package iptables

import (
	"context"
	"errors"
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

// TestRuleCountsThroughPartialSyncs: services added, changed, emptied and
// removed by partial syncs, a failed restore and the full sync after it;
// after each the total is what the kernel holds.
func TestRuleCountsThroughPartialSyncs(t *testing.T) {
	p, f := newTest(t)
	steps := []func(*proxytest.Builder, map[string]proxy.ServicePortName){
		nil,
		func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
			d := b.Service("default", "d", "10.96.1.9", 53, proxytest.NodePort(30053))
			b.Endpoints(d, proxytest.Ready("10.244.3.1", 53), proxytest.Ready("10.244.3.2", 53), proxytest.Ready("10.244.3.3", 53))
		},
		func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {}, // c loses its endpoints: REJECT in filter
		func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
			b.Endpoints(n["c"], proxytest.Ready("10.244.9.9", 8080))
		},
	}
	for i, edit := range steps {
		var s *proxy.Snapshot
		if edit == nil {
			s = threeServices()
		} else {
			s = threeServices(edit)
		}
		if i == 3 {
			f.FailNextRestore(errors.New("iptables-restore: line 7 failed"))
			if err := p.Sync(context.Background(), s, false); err == nil {
				t.Fatal("the failed restore did not fail")
			}
		}
		mustSync(t, p, s, i == 0)
		total, _ := p.RuleCounts()
		for _, table := range tables {
			if want := ownedRules(f, table); total[table] != want {
				t.Errorf("step %d, %s: total %d, kernel %d", i, table, total[table], want)
			}
		}
	}
}
