package nftables

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

// affSet names the affinity set of service port n's endpoint ep
// ("ip:port") in scope "c" (cluster) or "e" (external).
func affSet(n proxy.ServicePortName, scope, ep string) string {
	ip, port, _ := strings.Cut(ep, ":")
	return "aff-" + affinityName(n) + "-" + scope + "-" + ip + "-" + port
}

// rememberClient adds client to the set as the packet path's
// "update @set { ip saddr }" does.
func rememberClient(t *testing.T, fake *knftables.Fake, set, client string) {
	t.Helper()
	tx := fake.NewTransaction()
	tx.Add(&knftables.Element{Set: set, Key: []string{client}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatalf("packet path update of %s: %v", set, err)
	}
}

// clients lists the elements of the set (nil when there is no such set).
func clients(fake *knftables.Fake, set string) []string {
	s := fake.Table.Sets[set]
	if s == nil {
		return nil
	}
	out := []string{}
	for _, e := range s.Elements {
		out = append(out, strings.Join(e.Key, " . "))
	}
	slices.Sort(out)
	return out
}

// assertFresh says the table is what a full sync of s writes into an
// empty table, plus the given packet-path entries ("set client").
func assertFresh(t *testing.T, fake *knftables.Fake, s *proxy.Snapshot, entries ...string) {
	t.Helper()
	fresh, q := newFakeProxier()
	mustSync(t, q, s, true)
	for _, e := range entries {
		set, client, _ := strings.Cut(e, " ")
		rememberClient(t, fresh, set, client)
	}
	if got, want := sortedDump(fake), sortedDump(fresh); got != want {
		t.Fatalf("table differs from a fresh full sync:\n%s", lineDiff(got, want))
	}
}

// assertKeptAffinity says the last transaction was a full one that
// flushed no affinity set and deleted none of kept.
func assertKeptAffinity(t *testing.T, fake *knftables.Fake, kept ...string) {
	t.Helper()
	tx := fake.LastTransaction.String()
	if !strings.Contains(tx, "flush chain ip nodeagent services") {
		t.Fatalf("not a full sync:\n%s", tx)
	}
	bads := []string{"delete table", "flush set ip nodeagent aff-"}
	for _, k := range kept {
		bads = append(bads, "delete set ip nodeagent "+k+"\n")
	}
	for _, bad := range bads {
		if strings.Contains(tx, bad) {
			t.Fatalf("the full sync has %q:\n%s", bad, tx)
		}
	}
}

func stickySnapshot() (*pt.Builder, proxy.ServicePortName, proxy.ServicePortName) {
	b := pt.New(nodeIP)
	sticky := b.Service("ns", "sticky", "10.96.0.12", 80, pt.Affinity(600), pt.NodePort(30080))
	b.Endpoints(sticky, pt.Ready("10.244.1.5", 80), pt.Ready("10.244.2.6", 80))
	web := b.Service("ns", "web", "10.96.0.10", 80, pt.NodePort(30081))
	b.Endpoints(web, pt.Ready("10.244.1.7", 80), pt.Ready("10.244.1.8", 80))
	return b, sticky, web
}

func TestFullSyncAfterPartialKeepsAffinityEntries(t *testing.T) {
	b, sticky, web := stickySnapshot()
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	s := b.Snapshot()
	s.Endpoints[web][1].IP = mustAddr("10.244.1.9")
	mustSync(t, p, s, false)
	set := affSet(sticky, "c", "10.244.2.6:80")
	rememberClient(t, fake, set, podIP)
	for range 2 { // the periodic full sync, twice
		mustSync(t, p, s, true)
		assertKeptAffinity(t, fake, set)
		if got := clients(fake, set); !slices.Equal(got, []string{podIP}) {
			t.Fatalf("affinity entries after the full sync: %v, want [%s]", got, podIP)
		}
	}
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.12", 80)), false, "10.244.2.6:80")
	assertBalanced(t, tr.trace(tcp(podIP, nodeIP, 30080)), true, "10.244.2.6:80")
	assertBalanced(t, tr.trace(tcp("10.244.3.4", "10.96.0.12", 80)), false, "10.244.1.5:80", "10.244.2.6:80")
	assertFresh(t, fake, s, set+" "+podIP)
}

func TestFullSyncRepairsDrift(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	s := b.Snapshot()
	fake, p := newFakeProxier()
	mustSync(t, p, s, true)
	set := affSet(sticky, "c", "10.244.1.5:80")
	rememberClient(t, fake, set, podIP)
	// Someone else's hand in our table: the node-port DNAT rule and its
	// map deleted, a rule added, stray elements in a data map and a set,
	// an element of ours deleted.
	rules := fake.Table.Chains[chainServices].Rules
	i := slices.IndexFunc(rules, func(r *knftables.Rule) bool { return strings.HasSuffix(r.Rule, "map @np-2") })
	if i < 0 {
		t.Fatalf("no np-2 DNAT rule in services")
	}
	last := rules[i]
	tx := fake.NewTransaction()
	tx.Delete(&knftables.Rule{Chain: chainServices, Handle: last.Handle})
	tx.Delete(&knftables.Map{Name: "np-2"})
	tx.Add(&knftables.Rule{Chain: chainEndpointCheck, Rule: "ip saddr 10.9.9.9 drop"})
	tx.Add(&knftables.Element{Map: "svc-2", Key: []string{"10.96.9.9", "tcp", "80", "0"}, Value: []string{"10.244.9.9", "80"}})
	tx.Add(&knftables.Element{Set: ipSets.reject, Key: []string{"10.96.0.10", "tcp", "80"}})
	tx.Add(&knftables.Element{Map: "svc-affinity", Key: []string{"10.96.0.10", "tcp", "80"}, Value: []string{"goto " + set}})
	tx.Delete(&knftables.Element{Set: "cluster-ips", Key: []string{"10.96.0.12", "tcp", "80"}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatalf("drift: %v", err)
	}
	mustSync(t, p, s, true)
	assertKeptAffinity(t, fake, set)
	assertFresh(t, fake, s, set+" "+podIP)
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(outsider, nodeIP, 30081)), true, "10.244.1.7:80", "10.244.1.8:80")
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.10", 80)), false, "10.244.1.7:80", "10.244.1.8:80")
	assertBalanced(t, tr.trace(tcp(podIP, "10.96.0.12", 80)), false, "10.244.1.5:80")
}

func TestFullSyncDeletesARemovedAffinityService(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	other := b.Service("ns", "other", "10.96.0.13", 443, pt.Affinity(60))
	b.Endpoints(other, pt.Ready("10.244.4.4", 443))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	gone, kept := affSet(sticky, "c", "10.244.1.5:80"), affSet(other, "c", "10.244.4.4:443")
	rememberClient(t, fake, gone, podIP)
	rememberClient(t, fake, kept, podIP)
	s := b.Snapshot()
	delete(s.Services, sticky)
	delete(s.Endpoints, sticky)
	mustSync(t, p, s, true)
	assertKeptAffinity(t, fake, kept)
	if dump := fake.Dump(); strings.Contains(dump, "aff-"+affinityName(sticky)) || strings.Contains(dump, "10.96.0.12") {
		t.Fatalf("the removed affinity service left objects:\n%s", dump)
	}
	if got := clients(fake, kept); !slices.Equal(got, []string{podIP}) {
		t.Fatalf("the other service's entries: %v", got)
	}
	assertFresh(t, fake, s, kept+" "+podIP)
	assertVerdict(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.12", 80)), "accept")
}

func TestChangedAffinityTimeoutRecreatesOnlyItsSets(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	other := b.Service("ns", "other", "10.96.0.13", 443, pt.Affinity(60))
	b.Endpoints(other, pt.Ready("10.244.4.4", 443))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	changed, kept := affSet(other, "c", "10.244.4.4:443"), affSet(sticky, "c", "10.244.1.5:80")
	rememberClient(t, fake, changed, podIP)
	rememberClient(t, fake, kept, podIP)
	s := b.Snapshot()
	s.Services[other].AffinityTimeout = 120
	mustSync(t, p, s, false) // a definition change makes it full
	tx := fake.LastTransaction.String()
	if !strings.Contains(tx, "delete set ip nodeagent "+changed+"\n") || strings.Contains(tx, "delete table") ||
		strings.Contains(tx, "delete set ip nodeagent "+kept+"\n") {
		t.Fatalf("want the changed set deleted and re-added, nothing else:\n%s", tx)
	}
	if set := fake.Table.Sets[changed]; set == nil || set.Timeout.Seconds() != 120 || len(set.Elements) != 0 {
		t.Fatalf("changed set: %+v", set)
	}
	if got := clients(fake, kept); !slices.Equal(got, []string{podIP}) {
		t.Fatalf("the unchanged service's entries: %v", got)
	}
	assertFresh(t, fake, s, kept+" "+podIP)
}

// TestNewEndpointCountMakesTheSyncFull: a new endpoint count rewrites the
// services chain, whose rules look up typeof maps already in the table;
// nft 1.0.6 refuses that, so the sync is a full one (which keeps the
// affinity entries).
func TestNewEndpointCountMakesTheSyncFull(t *testing.T) {
	b, sticky, web := stickySnapshot()
	two := b.Service("ns", "two", "10.96.0.20", 80) // keeps svc-2 in use
	b.Endpoints(two, pt.Ready("10.244.5.1", 80), pt.Ready("10.244.5.2", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	set := affSet(sticky, "c", "10.244.1.5:80")
	rememberClient(t, fake, set, podIP)
	s := b.Snapshot()
	var want []string
	for i := range pinnedCounts + 1 {
		ep := fmt.Sprintf("10.244.7.%d", i+1)
		s.Endpoints[web] = append(s.Endpoints[web][:i:i], pt.Ready(ep, 80))
		want = append(want, ep+":80")
	}
	mustSync(t, p, s, false)
	assertKeptAffinity(t, fake, set)
	if tx := fake.LastTransaction.String(); !strings.Contains(tx, "delete map ip nodeagent svc-2\n") {
		t.Fatalf("svc-2 not made anew:\n%s", tx)
	}
	assertFresh(t, fake, s, set+" "+podIP)
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.10", 80)), false, want...)
}

// TestPinnedEndpointCountChangeIsPartial: a count up to pinnedCounts has
// its map and DNAT rule already, so scaling a Service from 2 to 3
// endpoints is a few element operations, not a full sync (before, svc-3
// was new, and the services chain rewritten with it still looked up the
// old svc-2, which nft 1.0.6 refuses in a partial transaction).
func TestPinnedEndpointCountChangeIsPartial(t *testing.T) {
	b, sticky, web := stickySnapshot()
	two := b.Service("ns", "two", "10.96.0.20", 80) // keeps svc-2 in use
	b.Endpoints(two, pt.Ready("10.244.5.1", 80), pt.Ready("10.244.5.2", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	set := affSet(sticky, "c", "10.244.1.5:80")
	rememberClient(t, fake, set, podIP)
	s := b.Snapshot()
	s.Endpoints[web] = append(s.Endpoints[web], pt.Ready("10.244.1.9", 80))
	mustSync(t, p, s, false)
	tx := fake.LastTransaction.String()
	if strings.Contains(tx, "table") || strings.Contains(tx, "rule") || strings.Count(tx, "\n") > 12 {
		t.Fatalf("not a small partial transaction:\n%s", tx)
	}
	assertFresh(t, fake, s, set+" "+podIP)
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(podIP, "10.96.0.10", 80)), false,
		"10.244.1.7:80", "10.244.1.8:80", "10.244.1.9:80")
}

// TestFirstSyncKeepsAnEarlierRunsEntries: a new Proxier (a restarted
// agent) does not know the table; its first full sync lists the objects,
// deletes what the snapshot lacks and keeps the affinity entries.
func TestFirstSyncKeepsAnEarlierRunsEntries(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	old := b.Service("ns", "old", "10.96.0.13", 443, pt.Affinity(60), pt.NodePort(30443))
	b.Endpoints(old, pt.Ready("10.244.4.4", 443), pt.Ready("10.244.4.5", 443), pt.Ready("10.244.4.6", 443))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	set := affSet(sticky, "c", "10.244.2.6:80")
	rememberClient(t, fake, set, podIP)
	rememberClient(t, fake, affSet(old, "c", "10.244.4.4:443"), podIP)
	tx := fake.NewTransaction()
	tx.Add(&knftables.Element{Map: "svc-2", Key: []string{"10.96.9.9", "tcp", "80", "0"}, Value: []string{"10.244.9.9", "80"}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	s := b.Snapshot()
	delete(s.Services, old)
	delete(s.Endpoints, old)
	restarted := New(proxy.DefaultConfig(), strictNFT{fake}, nil)
	mustSync(t, restarted, s, false)
	assertKeptAffinity(t, fake, set)
	assertFresh(t, fake, s, set+" "+podIP)
}

// failingNFT fails the next fail Runs, and ListAll when failList is set.
type failingNFT struct {
	strictNFT
	fail     int
	failList bool
}

func (f *failingNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("injected failure")
	}
	return f.strictNFT.Run(ctx, tx)
}

func (f *failingNFT) ListAll(ctx context.Context) (map[string][]string, error) {
	if f.failList {
		return nil, errors.New("injected list failure")
	}
	return f.Fake.ListAll(ctx)
}

func newFailingProxier() (*failingNFT, *Proxier) {
	nft := &failingNFT{strictNFT: strictNFT{knftables.NewFake(Family, TableName)}}
	return nft, New(proxy.DefaultConfig(), nft, nil)
}

func TestFailedTransactionMakesTheNextSyncFull(t *testing.T) {
	b, sticky, web := stickySnapshot()
	nft, p := newFailingProxier()
	mustSync(t, p, b.Snapshot(), true)
	set := affSet(sticky, "c", "10.244.1.5:80")
	rememberClient(t, nft.Fake, set, podIP)
	s := b.Snapshot()
	s.Endpoints[web] = nil
	nft.fail = 1
	if err := p.Sync(context.Background(), s, false); err == nil {
		t.Fatal("sync succeeded despite the failure")
	}
	mustSync(t, p, s, false)
	assertKeptAffinity(t, nft.Fake, set)
	assertFresh(t, nft.Fake, s, set+" "+podIP)
	last := nft.LastTransaction
	mustSync(t, p, s, false)
	if nft.LastTransaction != last && nft.LastTransaction.NumOperations() != 0 {
		t.Fatalf("the sync after that was not partial:\n%s", nft.LastTransaction)
	}
	assertVerdict(t, newTracer(t, nft.Fake, nodeIP).trace(tcp(podIP, "10.96.0.10", 80)), "reject with tcp reset")
}

// TestFailedFullSyncRebuilds: when the full transaction fails (or the
// table cannot be listed), the same Sync deletes and rewrites the table.
func TestFailedFullSyncRebuilds(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	s := b.Snapshot()
	for _, tc := range []struct {
		name     string
		fail     int
		failList bool
		wantErr  bool
	}{
		{name: "full transaction fails", fail: 1},
		{name: "listing fails", failList: true},
		{name: "rebuild fails too", fail: 2, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nft, p := newFailingProxier()
			mustSync(t, p, s, true)
			rememberClient(t, nft.Fake, affSet(sticky, "c", "10.244.1.5:80"), podIP)
			p.applied = nil // as after a failure
			nft.fail, nft.failList = tc.fail, tc.failList
			err := p.Sync(context.Background(), s, true)
			if tc.wantErr {
				if err == nil || strings.Count(err.Error(), "injected failure") != 2 {
					t.Fatalf("error %v, want both failures", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if !strings.Contains(nft.LastTransaction.String(), "delete table") {
				t.Fatalf("not rebuilt:\n%s", nft.LastTransaction)
			}
			assertFresh(t, nft.Fake, s) // the entries went with the table
		})
	}
}

// TestStrictFakeRefuses checks the test fake itself: it must refuse what
// the kernel refuses, or the tests above prove little.
func TestStrictFakeRefuses(t *testing.T) {
	b, sticky, _ := stickySnapshot()
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	set := affSet(sticky, "c", "10.244.1.5:80")
	for name, op := range map[string]func(tx *knftables.Transaction){
		"a set a rule uses": func(tx *knftables.Transaction) { tx.Delete(&knftables.Set{Name: set}) },
		"a map a rule uses": func(tx *knftables.Transaction) { tx.Delete(&knftables.Map{Name: "svc-2"}) },
		"a chain a vmap names": func(tx *knftables.Transaction) {
			tx.Delete(&knftables.Chain{Name: "aff-" + affinityName(sticky) + "-c"})
		},
		"a chain a rule jumps to": func(tx *knftables.Transaction) { tx.Delete(&knftables.Chain{Name: set}) },
		"a set with other flags":  func(tx *knftables.Transaction) { tx.Add(&knftables.Set{Name: set, Type: "ipv4_addr"}) },
		"a set with another type": func(tx *knftables.Transaction) { tx.Add(&knftables.Set{Name: "hairpin", Type: "ipv4_addr"}) },
		"a map with another type": func(tx *knftables.Transaction) { tx.Add(&knftables.Map{Name: "svc-2", TypeOf: mapTypeOfNP}) },
		"a lookup of an old typeof map": func(tx *knftables.Transaction) {
			tx.Add(&knftables.Rule{Chain: chainServices, Rule: "dnat ip to " + ipKey + " . numgen random mod 2 map @svc-2"})
		},
		"a chain a rule still jumps to after a vmap flush": func(tx *knftables.Transaction) {
			tx.Flush(&knftables.Map{Name: "svc-affinity"})
			tx.Delete(&knftables.Chain{Name: set})
		},
	} {
		tx := fake.NewTransaction()
		op(tx)
		if err := (strictNFT{fake}).Run(context.Background(), tx); err == nil {
			t.Errorf("%s: the strict fake accepted:\n%s", name, tx)
		}
	}
	tx := fake.NewTransaction()
	tx.Flush(&knftables.Chain{Name: chainServices})
	tx.Flush(&knftables.Map{Name: "svc-affinity"})
	tx.Flush(&knftables.Map{Name: "np-affinity"})
	tx.Delete(&knftables.Map{Name: "svc-2"})
	tx.Delete(&knftables.Chain{Name: "aff-" + affinityName(sticky) + "-c"})
	tx.Add(&knftables.Map{Name: "svc-2", TypeOf: mapTypeOfIP})
	tx.Add(&knftables.Rule{Chain: chainServices, Rule: "dnat ip to " + ipKey + " . numgen random mod 2 map @svc-2"})
	if err := (strictNFT{fake}).Run(context.Background(), tx); err != nil {
		t.Errorf("the strict fake refused deletes after the flushes: %v", err)
	}
}
