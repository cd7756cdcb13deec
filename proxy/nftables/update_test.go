package nftables

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
	pt "github.com/nodeagent/nodeagent/proxy/proxytest"
)

// recordingNFT keeps the last transaction and runs nothing: the cost of
// a Sync without nft's.
type recordingNFT struct {
	knftables.Interface
	last *knftables.Transaction
}

func (r *recordingNFT) Run(_ context.Context, tx *knftables.Transaction) error {
	r.last = tx
	return nil
}

// partialCost syncs n services, then one endpoint change and one new
// Service (partial syncs), and returns the allocations and the
// transactions of those two.
func partialCost(t *testing.T, n int) (allocs float64, txs string) {
	b, names := bigSnapshot(n)
	nft := &recordingNFT{Interface: knftables.NewFake(Family, TableName)}
	p := New(proxy.DefaultConfig(), nft, nil)
	mustSync(t, p, b.Snapshot(), true)
	ctx := context.Background()
	step := 0
	allocs = testing.AllocsPerRun(5, func() {
		step++
		s := b.Snapshot()
		s.Endpoints[names[7]][1].IP = mustAddr(fmt.Sprintf("10.250.0.%d", step))
		if err := p.Sync(ctx, s, false); err != nil {
			t.Fatal(err)
		}
		txs = nft.last.String()
		extra := b.Service("ns", fmt.Sprintf("new-%d", step), fmt.Sprintf("10.97.0.%d", step), 80)
		b.Endpoints(extra, pt.Ready("10.251.0.1", 80), pt.Ready("10.251.0.2", 80), pt.Ready("10.251.0.3", 80))
		if err := p.Sync(ctx, s, false); err != nil {
			t.Fatal(err)
		}
		txs += nft.last.String()
	})
	return allocs, txs
}

// TestPartialSyncCostsTheChangeNotTheTable: one endpoint change and one
// new Service send the same transactions at 100 and at 2,000 Services,
// and cost about the same: only the changed service port is computed
// again (before, every sync computed and compared the whole table, about
// 70 allocations per Service).
func TestPartialSyncCostsTheChangeNotTheTable(t *testing.T) {
	small, txSmall := partialCost(t, 100)
	big, txBig := partialCost(t, 2000)
	if txSmall != txBig {
		t.Errorf("transactions differ with the table's size:\n%s\n---\n%s", txSmall, txBig)
	}
	if n := strings.Count(txBig, "\n"); n == 0 || n > 20 {
		t.Errorf("%d operations for one endpoint change and one new Service:\n%s", n, txBig)
	}
	// The Services are still compared (no allocation), not recomputed.
	if big > small+50 {
		t.Errorf("a partial sync at 2,000 Services allocates %.0f times, at 100 %.0f: it grows with the table", big, small)
	}
}

// TestSharedElementsFollowTheirOwners: a frontend two service ports claim
// goes to the last in name order, and to the other when that one goes; a
// hairpin pair two ports share stays while either is there. Each partial
// result equals a full sync's.
func TestSharedElementsFollowTheirOwners(t *testing.T) {
	b := pt.New(nodeIP)
	a := b.Service("ns", "a", "10.96.0.10", 80, pt.ExternalIPs("203.0.113.7"))
	b.Endpoints(a, pt.Ready("10.244.1.5", 8080))
	z := b.Service("ns", "z", "10.96.0.11", 80, pt.ExternalIPs("203.0.113.7"))
	b.Endpoints(z, pt.Ready("10.244.1.6", 8080), pt.Ready("10.244.1.5", 8080))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	assertSameAsFull(t, fake, b.Snapshot())
	tr := newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(outsider, "203.0.113.7", 80)), true, "10.244.1.5:8080", "10.244.1.6:8080")

	s := b.Snapshot()
	delete(s.Services, z)
	delete(s.Endpoints, z)
	mustSync(t, p, s, false)
	assertSameAsFull(t, fake, s)
	tr = newTracer(t, fake, nodeIP)
	assertBalanced(t, tr.trace(tcp(outsider, "203.0.113.7", 80)), true, "10.244.1.5:8080")
	if !strings.Contains(fake.Dump(), "10.244.1.5 . 10.244.1.5") {
		t.Errorf("the hairpin pair a still uses went with z:\n%s", fake.Dump())
	}

	// z comes back before a in name order's reckoning: it wins again.
	s.Services[z] = &proxy.ServicePort{Name: z, ClusterIP: mustAddr("10.96.0.11"), Port: 80, Protocol: "TCP",
		ExternalIPs: []netip.Addr{mustAddr("203.0.113.7")}}
	s.Endpoints[z] = []proxy.Endpoint{pt.Ready("10.244.1.6", 8080)}
	mustSync(t, p, s, false)
	assertSameAsFull(t, fake, s)
	assertBalanced(t, newTracer(t, fake, nodeIP).trace(tcp(outsider, "203.0.113.7", 80)), true, "10.244.1.6:8080")
}

// TestFullAfterUpdateDeletesWhatWent: when a partial sync has to become
// a full one (an endpoint count beyond the pinned ones), what the same change removed (an
// affinity Service's chains and sets) is deleted too.
func TestFullAfterUpdateDeletesWhatWent(t *testing.T) {
	b, sticky, web := stickySnapshot()
	two := b.Service("ns", "two", "10.96.0.20", 80) // keeps svc-2 in use
	b.Endpoints(two, pt.Ready("10.244.5.1", 80), pt.Ready("10.244.5.2", 80))
	fake, p := newFakeProxier()
	mustSync(t, p, b.Snapshot(), true)
	s := b.Snapshot()
	delete(s.Services, sticky)
	delete(s.Endpoints, sticky)
	for i := range pinnedCounts {
		s.Endpoints[web] = append(s.Endpoints[web], pt.Ready(fmt.Sprintf("10.244.8.%d", i+1), 80))
	}
	mustSync(t, p, s, false)
	if tx := fake.LastTransaction.String(); !strings.Contains(tx, "add table") {
		t.Fatalf("not a full transaction:\n%s", tx)
	}
	if strings.Contains(fake.Dump(), "aff-") {
		t.Errorf("the removed affinity Service's objects are left:\n%s", fake.Dump())
	}
	assertSameAsFull(t, fake, s)
}

func assertSameAsFull(t *testing.T, fake *knftables.Fake, s *proxy.Snapshot) {
	t.Helper()
	full, q := newFakeProxier()
	mustSync(t, q, s, true)
	if sortedDump(fake) != sortedDump(full) {
		t.Fatalf("partial result differs from a full sync:\n%s", lineDiff(sortedDump(fake), sortedDump(full)))
	}
}
