package nftables

import (
	"net/netip"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// BenchmarkComputeAndDiff10k is one endpoint change at 10,000 services x
// 3 endpoints: compute the whole desired state and build the partial
// transaction (on the fake's Interface) against the applied one.
func BenchmarkComputeAndDiff10k(b *testing.B) {
	bld, names := bigSnapshot(10000)
	cfg := proxy.DefaultConfig()
	fake := knftables.NewFake(Family, TableName)
	applied, _ := compute(cfg, bld.Snapshot())
	s := bld.Snapshot()
	eps := s.Endpoints[names[5000]]
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// A new endpoint address; a new endpoint count would rewrite the
		// services chain, which needs the full transaction (keepMap).
		eps[0].IP = netip.AddrFrom4([4]byte{10, 250, byte(i >> 8), byte(i)})
		want, _ := compute(cfg, s)
		tx := fake.NewTransaction()
		if !partialTransaction(tx, applied, want) || tx.NumOperations() == 0 || tx.NumOperations() > 40 {
			b.Fatalf("partial transaction of %d operations", tx.NumOperations())
		}
		applied = want
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
