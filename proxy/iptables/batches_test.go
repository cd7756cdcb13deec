package iptables

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// services is n Services with node ports and 3 endpoints each, and from
// the 10th on affinity; shift moves every endpoint.
func services(n, shift int) *proxy.Snapshot {
	b := proxytest.New(nodeIP)
	for i := range n {
		edits := []func(*proxy.ServicePort){proxytest.NodePort(int32(30000 + i))}
		if i >= 10 {
			edits = append(edits, proxytest.Affinity(60))
		}
		name := b.Service("default", fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.1.%d", i+1), 80, edits...)
		for j := range 3 {
			b.Endpoints(name, proxytest.Ready(fmt.Sprintf("10.244.%d.%d", j+shift, i+1), 8080))
		}
	}
	return b.Snapshot()
}

// chainDump is every chain of ours with its rules, per table.
func chainDump(f *Fake) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, table := range tables {
		out[table] = map[string][]string{}
		for _, c := range f.Chains(table) {
			out[table][c] = f.Rules(table, c)
		}
	}
	return out
}

// A large sync goes in several restores of at most batchChains chains
// each, in an order the fake (which refuses a jump to a missing chain and
// the deletion of a referenced one) accepts, and leaves what one restore
// would; so does a sync that deletes many chains.
func TestLargeSyncsGoInBatchesThatKeepEveryJumpValid(t *testing.T) {
	batched, bf := newTest(t)
	batched.batchChains = 25
	whole, wf := newTest(t)
	for step, s := range []struct {
		snap *proxy.Snapshot
		full bool
	}{{services(40, 0), true}, {services(40, 1), false}, {services(12, 2), false}, {services(40, 0), true}, {services(3, 0), true}} {
		before := len(bf.Inputs())
		mustSync(t, batched, s.snap, s.full)
		mustSync(t, whole, s.snap, s.full)
		inputs := bf.Inputs()[before:]
		if len(inputs) < 3 {
			t.Errorf("step %d: %d restores, want the sync cut into several", step, len(inputs))
		}
		for i, in := range inputs {
			if n := len(declared(string(in))); n > 25 {
				t.Errorf("step %d: restore %d declares %d chains, more than 25", step, i, n)
			}
		}
		if got, want := chainDump(bf), chainDump(wf); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: batched restores left\n%v\none restore left\n%v", step, got, want)
		}
		gt, gl := batched.RuleCounts()
		wt, wl := whole.RuleCounts()
		if !reflect.DeepEqual(gt, wt) || !reflect.DeepEqual(gl, wl) {
			t.Errorf("step %d: rule counts %v %v, want %v %v", step, gt, gl, wt, wl)
		}
	}
}

// A batch that fails leaves the earlier ones applied: the state is then
// unknown and the next sync is full, which makes it right.
func TestFailedBatchMakesTheNextSyncFull(t *testing.T) {
	p, f := newTest(t)
	p.batchChains = 25
	mustSync(t, p, services(40, 0), true)
	f.FailNextRestore(errors.New("boom"))
	if err := p.Sync(context.Background(), services(40, 1), false); err == nil {
		t.Fatal("the failed restore was not reported")
	}
	mustSync(t, p, services(40, 1), false)
	_, want := newTest(t)
	whole, _ := newTest(t)
	whole.run = want
	mustSync(t, whole, services(40, 1), true)
	if got, w := chainDump(f), chainDump(want); !reflect.DeepEqual(got, w) {
		t.Fatalf("after the failure and one more sync:\n%v\nwant\n%v", got, w)
	}
}
