package iptables

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/proxy"
	"github.com/nodeagent/nodeagent/proxy/proxytest"
)

// threeServices: a, b and c, each with two endpoints; edit changes the builder.
func threeServices(edit ...func(*proxytest.Builder, map[string]proxy.ServicePortName)) *proxy.Snapshot {
	b := proxytest.New(nodeIP)
	names := map[string]proxy.ServicePortName{}
	for i, svc := range []string{"a", "b", "c"} {
		n := b.Service("default", svc, "10.96.1."+itoa(i+1), 80)
		names[svc] = n
		if !(len(edit) > 0 && svc == "c") {
			b.Endpoints(n, proxytest.Ready("10.244.1."+itoa(i+1), 8080), proxytest.Ready("10.244.2."+itoa(i+1), 8080))
		}
	}
	for _, e := range edit {
		e(b, names)
	}
	return b.Snapshot()
}

func lastInput(t *testing.T, f *Fake) string {
	t.Helper()
	in := f.Inputs()
	if len(in) == 0 {
		t.Fatal("no restore input")
	}
	return string(in[len(in)-1])
}

// declared lists the chains an input declares (so creates or flushes).
func declared(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, ":"), " "); ok && strings.HasPrefix(l, ":") {
			out = append(out, name)
		}
	}
	return out
}

func svcOf(n proxy.ServicePortName) string { return chainsOf(n).svc }

func TestPartialSyncWritesOnlyChangedChains(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, threeServices(), true)
	names := map[string]proxy.ServicePortName{}
	s := threeServices(func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
		names = n
		b.Endpoints(n["c"], proxytest.Ready("10.244.1.3", 8080), proxytest.Ready("10.244.9.9", 8080))
	})
	mustSync(t, p, s, false)
	in := lastInput(t, f)
	oldSep := sepChain(names["c"].String(), "TCP", "10.244.2.3:8080")
	newSep := sepChain(names["c"].String(), "TCP", "10.244.9.9:8080")
	want := []string{svcOf(names["c"]), newSep, oldSep}
	slices.Sort(want)
	got := declared(in)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("partial sync declared %v, want %v\n%s", got, want, in)
	}
	if !strings.Contains(in, "-X "+oldSep+"\n") || strings.Contains(in, "*filter") {
		t.Errorf("input does not delete %s only in nat:\n%s", oldSep, in)
	}
	if got := f.Chains("nat"); slices.Contains(got, oldSep) || !slices.Contains(got, newSep) {
		t.Errorf("nat chains %v: want %s gone and %s there", got, oldSep, newSep)
	}
	expectReach(t, trace(t, f, podClient, "10.96.1.3:80", false, testEnv), false, "10.244.1.3:8080", "10.244.9.9:8080")
}

func TestUnchangedSyncSendsNothing(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, threeServices(), true)
	mustSync(t, p, threeServices(), false)
	if n := len(f.Inputs()); n != 1 {
		t.Errorf("%d restores, want 1 (the second sync has nothing to change)", n)
	}
}

func TestFullSyncRewritesEveryChain(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, threeServices(), true)
	mustSync(t, p, threeServices(), true)
	if got := declared(lastInput(t, f)); len(got) != len(declared(string(f.Inputs()[0]))) || len(got) < 3+6+7 {
		t.Errorf("full resync declared %d chains, want every chain (%v)", len(got), got)
	}
	if got := f.Rules("nat", "PREROUTING"); len(got) != 1 {
		t.Errorf("PREROUTING has %v, want the one jump", got)
	}
}

func TestRemovedServiceChainsAreDeleted(t *testing.T) {
	p, f := newTest(t)
	s, n := webSnapshot(threeEndpoints, proxytest.ExternalIPs("203.0.113.5"))
	mustSync(t, p, s, true)
	before := f.Chains("nat")
	mustSync(t, p, proxytest.New(nodeIP).Snapshot(), false)
	in := lastInput(t, f)
	for _, c := range before {
		if owned(c) && (strings.HasPrefix(c, prefixSvc) || strings.HasPrefix(c, prefixSep) || strings.HasPrefix(c, prefixExt)) {
			if !strings.Contains(in, "-X "+c+"\n") {
				t.Errorf("input does not delete %s:\n%s", c, in)
			}
		}
	}
	for _, c := range f.Chains("nat") {
		if strings.Contains(c, "-SVC-") || strings.Contains(c, "-SEP-") || strings.Contains(c, "-EXT-") {
			t.Errorf("chain %s left after %s was removed", c, n)
		}
	}
	paths := trace(t, f, podClient, "10.96.0.10:80", false, testEnv)
	if paths[0].DNAT {
		t.Errorf("removed service still DNATs: %+v", paths[0])
	}
}

func TestFailedRestoreMakesNextSyncFull(t *testing.T) {
	p, f := newTest(t)
	mustSync(t, p, threeServices(), true)
	f.FailNextRestore(errors.New("boom"))
	changed := threeServices(func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
		b.Endpoints(n["c"], proxytest.Ready("10.244.9.9", 8080))
	})
	if err := p.Sync(context.Background(), changed, false); err == nil {
		t.Fatal("sync succeeded over a failing restore")
	}
	mustSync(t, p, changed, false)
	got := declared(lastInput(t, f))
	for _, c := range []string{chainServices, chainPostrouting, chainForward} {
		if !slices.Contains(got, c) {
			t.Errorf("sync after a failure did not rewrite %s: declared %v", c, got)
		}
	}
	expectReach(t, trace(t, f, podClient, "10.96.1.3:80", false, testEnv), false, "10.244.9.9:8080")
}

func TestFullSyncAfterFailureDeletesWhatTheFailedSyncMayHaveMade(t *testing.T) {
	p, f := newTest(t)
	withD := func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
		d := b.Service("default", "d", "10.96.1.4", 80)
		b.Endpoints(d, proxytest.Ready("10.244.4.4", 8080))
		n["d"] = d
	}
	mustSync(t, p, threeServices(), true)
	// A failure the real iptables-restore can have: nat committed, filter not.
	if err := f.Restore(context.Background(), fullInput(t, threeServices(withD))); err != nil {
		t.Fatal(err)
	}
	f.FailNextRestore(errors.New("filter failed"))
	if err := p.Sync(context.Background(), threeServices(withD), false); err == nil {
		t.Fatal("sync succeeded over a failing restore")
	}
	mustSync(t, p, threeServices(), false)
	for _, c := range f.Chains("nat") {
		if c == svcOf(proxytest.Name("default", "d", "TCP")) {
			t.Errorf("%s (service d, only attempted) is left", c)
		}
	}
}

// fullInput is the input a first full sync of s would send.
func fullInput(t *testing.T, s *proxy.Snapshot) []byte {
	in, _ := restoreInputs(nil, buildRules(proxy.DefaultConfig(), s, 0), nil, true, 0)
	if len(in) != 1 {
		t.Fatalf("%d restore inputs, want 1", len(in))
	}
	return in[0]
}

func TestFirstSyncDeletesChainsLeftByEarlierProcess(t *testing.T) {
	f := NewFake()
	old := New(proxy.DefaultConfig(), f, discardLogger)
	mustSync(t, old, threeServices(), true)
	stale := svcOf(proxytest.Name("default", "a", "TCP"))

	p := New(proxy.DefaultConfig(), f, discardLogger)
	s := threeServices(func(b *proxytest.Builder, n map[string]proxy.ServicePortName) {
		delete(b.Snapshot().Services, n["a"])
	})
	mustSync(t, p, s, false)
	if slices.Contains(f.Chains("nat"), stale) {
		t.Errorf("%s of a service gone while we were down is left", stale)
	}
	if got := f.Rules("nat", "OUTPUT"); len(got) != 1 {
		t.Errorf("OUTPUT has %v, want the one jump", got)
	}
}

func TestModeAndChainNames(t *testing.T) {
	p, _ := newTest(t)
	if p.Mode() != "iptables" {
		t.Errorf("Mode() = %q", p.Mode())
	}
	tcp, udp := chainsOf(proxytest.Name("ns", "svc", "TCP")), chainsOf(proxytest.Name("ns", "svc", "UDP"))
	for _, c := range []string{tcp.svc, tcp.ext, tcp.svl, sepChain("x", "TCP", "1.2.3.4:5")} {
		if len(c) > 28 || !owned(c) {
			t.Errorf("chain %q: length %d, owned %v", c, len(c), owned(c))
		}
	}
	if tcp.svc == udp.svc || tcp.svc[len(prefixSvc):] != tcp.ext[len(prefixExt):] {
		t.Errorf("names %+v / %+v: want per-protocol, same hash for SVC and EXT", tcp, udp)
	}
	if chainsOf(proxytest.Name("ns", "svc", "TCP")) != tcp {
		t.Error("chain names are not deterministic")
	}
}

func chainsOf(n proxy.ServicePortName) portChains { return chainsFor(n.String(), n.Protocol) }
