package nftables

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// partsNFT records the transactions it is asked to run and fails the
// failAt-th (counting from 1; 0: none).
type partsNFT struct {
	strictNFT
	txs    []*knftables.Transaction
	failAt int
}

func (r *partsNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	r.txs = append(r.txs, tx)
	if len(r.txs) == r.failAt {
		return errors.New("injected failure")
	}
	return r.strictNFT.Run(ctx, tx)
}

func newPartsProxier(runs int) (*partsNFT, *Proxier) {
	nft := &partsNFT{strictNFT: strictNFT{knftables.NewFake(Family, TableName)}}
	p := New(proxy.DefaultConfig(), nft, nil)
	p.freshRuns, p.freshMin = runs, 1
	return nft, p
}

// TestEmptyTableLoadsInParts: a full sync onto no table sends the
// structure, then the elements in parts of one size that only add
// elements; the table is the one a single transaction makes, and the
// syncs after it work from it as from any other.
func TestEmptyTableLoadsInParts(t *testing.T) {
	b, names := bigSnapshot(300)
	s := b.Snapshot()
	nft, p := newPartsProxier(3)
	mustSync(t, p, s, true)
	if len(nft.txs) != 4 {
		t.Fatalf("%d transactions, want the structure and 3 parts", len(nft.txs))
	}
	if head := nft.txs[0].String(); strings.Contains(head, " element ") || !strings.Contains(head, "add rule") {
		t.Fatalf("the first transaction is not the structure alone:\n%s", head)
	}
	total, size := 0, nft.txs[1].NumOperations()
	for i, tx := range nft.txs[1:] {
		n := tx.NumOperations()
		total += n
		if n == 0 || n > size {
			t.Errorf("part %d has %d operations, the first %d", i+1, n, size)
		}
		for _, line := range strings.Split(strings.TrimSpace(tx.String()), "\n") {
			if !strings.HasPrefix(line, "add element ") {
				t.Fatalf("part %d does more than add elements: %s", i+1, line)
			}
		}
	}
	if want := p.applied.numElements(); total != want {
		t.Fatalf("the parts add %d elements, want %d", total, want)
	}
	assertFresh(t, nft.Fake, s)

	// The applied state is the whole table: a change is a partial sync.
	s.Endpoints[names[7]][1].IP = mustAddr("10.250.0.1")
	nft.txs = nil
	mustSync(t, p, s, false)
	if len(nft.txs) != 1 || nft.txs[0].NumOperations() > 10 {
		t.Fatalf("the change after the parts was not one small transaction: %d", len(nft.txs))
	}
	assertFresh(t, nft.Fake, s)

	// A table that holds anything is rewritten in one transaction.
	nft.txs = nil
	p.applied = nil
	mustSync(t, p, s, true)
	if len(nft.txs) != 1 {
		t.Fatalf("a full sync over a loaded table took %d transactions, want 1", len(nft.txs))
	}
	assertFresh(t, nft.Fake, s)
}

// TestSmallOrSingleRunLoadsInOneTransaction: below freshMin elements, or
// with one run, an empty table gets one transaction.
func TestSmallOrSingleRunLoadsInOneTransaction(t *testing.T) {
	b, _ := bigSnapshot(20)
	for _, tc := range []struct {
		name      string
		runs, min int
	}{{"one run", 1, 1}, {"under the minimum", 4, 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			nft, p := newPartsProxier(tc.runs)
			p.freshMin = tc.min
			mustSync(t, p, b.Snapshot(), true)
			if len(nft.txs) != 1 {
				t.Fatalf("%d transactions, want 1", len(nft.txs))
			}
		})
	}
}

// TestFailedPartRebuildsTheTable: when a part fails, the same Sync
// rewrites the table whole, and the result is complete.
func TestFailedPartRebuildsTheTable(t *testing.T) {
	b, _ := bigSnapshot(100)
	s := b.Snapshot()
	for _, failAt := range []int{1, 2, 4} {
		nft, p := newPartsProxier(3)
		nft.failAt = failAt
		if err := p.Sync(context.Background(), s, true); err != nil {
			t.Fatalf("failure at transaction %d: sync: %v", failAt, err)
		}
		if last := nft.txs[len(nft.txs)-1].String(); !strings.Contains(last, "delete table") {
			t.Fatalf("failure at transaction %d: not rebuilt:\n%.300s", failAt, last)
		}
		assertFresh(t, nft.Fake, s)
	}
}
