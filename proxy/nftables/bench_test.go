package nftables

import (
	"context"
	"net/netip"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// BenchmarkPartialSync10k is one endpoint change at 10,000 services x
// 3 endpoints: update the applied state and build the partial transaction
// (on the fake's Interface), what a partial Sync does before nft runs.
// The snapshot names the changed port, as the tracker's do; the "compare"
// variant has no Changed and compares every port.
func BenchmarkPartialSync10k(b *testing.B) {
	for _, tracked := range []bool{true, false} {
		name := "changed"
		if !tracked {
			name = "compare"
		}
		b.Run(name, func(b *testing.B) { benchPartialSync(b, tracked) })
	}
}

func benchPartialSync(b *testing.B, tracked bool) {
	bld, names := bigSnapshot(10000)
	cfg := proxy.DefaultConfig()
	fake := knftables.NewFake(Family, TableName)
	s := bld.Snapshot()
	s.Seq = 1
	applied, _ := compute(cfg, s)
	applied.seq = 1
	eps := s.Endpoints[names[5000]]
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// A new endpoint address; a new endpoint count would rewrite the
		// services chain, which needs the full transaction (keepMap).
		eps[0].IP = netip.AddrFrom4([4]byte{10, 250, byte(i >> 8), byte(i)})
		s.Seq++
		if tracked {
			s.Changed = map[proxy.ServicePortName]struct{}{names[5000]: {}}
		}
		d, _ := applied.update(cfg, s)
		tx := fake.NewTransaction()
		if !partialTransaction(tx, applied, d) || tx.NumOperations() == 0 || tx.NumOperations() > 40 {
			b.Fatalf("partial transaction of %d operations", tx.NumOperations())
		}
	}
}

// BenchmarkCompute10k computes the whole state at 10,000 services x 3
// endpoints, what a full sync does first.
func BenchmarkCompute10k(b *testing.B) {
	bld, _ := bigSnapshot(10000)
	b.ReportAllocs()
	for range b.N {
		if _, err := compute(proxy.DefaultConfig(), bld.Snapshot()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullTransaction10k builds the full transaction over the
// applied state at 10,000 services x 3 endpoints (not run: the fake's
// element lookup is linear).
func BenchmarkFullTransaction10k(b *testing.B) {
	bld, _ := bigSnapshot(10000)
	fake := knftables.NewFake(Family, TableName)
	want, _ := compute(proxy.DefaultConfig(), bld.Snapshot())
	have, _ := compute(proxy.DefaultConfig(), bld.Snapshot())
	b.ResetTimer()
	for range b.N {
		tx := fake.NewTransaction()
		fullTransaction(tx, have, want)
	}
}

// BenchmarkFullSyncGoSide10k is a full Sync at 10,000 services x 3
// endpoints up to nft: compute, the full transaction, its text joined as
// batchingInterface sends it.
func BenchmarkFullSyncGoSide10k(b *testing.B) {
	bld, _ := bigSnapshot(10000)
	nft := &renderingNFT{Interface: knftables.NewFake(Family, TableName)}
	p := New(proxy.DefaultConfig(), nft, nil)
	b.ReportAllocs()
	for range b.N {
		if err := p.Sync(context.Background(), bld.Snapshot(), true); err != nil {
			b.Fatal(err)
		}
	}
}

// renderingNFT renders a transaction as batchingInterface would, and runs
// nothing.
type renderingNFT struct{ knftables.Interface }

func (r *renderingNFT) Run(_ context.Context, tx *knftables.Transaction) error {
	joinElementAdds(tx.String())
	return nil
}
