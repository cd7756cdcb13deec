package nftables

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/nodeagent/nodeagent/proxy"
)

// Family and TableName are where the backend lives: one table, so that
// Cleanup is one delete.
const (
	Family    = knftables.IPv4Family
	TableName = "nodeagent"
)

// Proxier is the nftables proxy backend.
type Proxier struct {
	cfg proxy.Config
	nft knftables.Interface
	log *slog.Logger

	mu sync.Mutex
	// applied is what the last successful transaction made the table
	// hold; nil: unknown (never synced, or the last transaction failed),
	// so the next sync is full.
	applied *state
}

var _ proxy.Backend = (*Proxier)(nil)

// New returns a backend that programs the table ip nodeagent through nft,
// an Interface for (Family, TableName): NewInterface's, or
// knftables.NewFake(Family, TableName) in tests.
func New(cfg proxy.Config, nft knftables.Interface, log *slog.Logger) *Proxier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Proxier{cfg: cfg, nft: nft, log: log}
}

// Mode is "nftables".
func (p *Proxier) Mode() string { return "nftables" }

// Sync makes the table match s in one transaction: everything when full
// (or when the applied state is unknown or a definition changed), else
// only the difference from what was applied last.
func (p *Proxier) Sync(ctx context.Context, s *proxy.Snapshot, full bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	want := compute(p.cfg, s)
	tx := p.nft.NewTransaction()
	if full || p.applied == nil || !partialTransaction(tx, p.applied, want) {
		tx = p.nft.NewTransaction()
		fullTransaction(tx, want)
		full = true
	}
	computed := time.Since(start)
	if err := p.nft.Run(ctx, tx); err != nil {
		p.applied = nil
		return fmt.Errorf("nftables sync (full=%t, %d operations): %w", full, tx.NumOperations(), err)
	}
	p.applied = want
	p.log.Debug("nftables sync", "full", full, "operations", tx.NumOperations(),
		"elements", want.numElements(), "compute", computed, "total", time.Since(start))
	return nil
}

// Cleanup deletes the table; a table that is not there is fine.
func (p *Proxier) Cleanup(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied = nil
	tx := p.nft.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := p.nft.Run(ctx, tx); err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("delete table %s %s: %w", Family, TableName, err)
	}
	return nil
}
