package nftables

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
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
	// freshRuns is how many nft runs load the elements of a table that
	// held nothing, and freshMin the fewest elements worth that (see
	// syncFresh).
	freshRuns, freshMin int
}

var _ proxy.Backend = (*Proxier)(nil)

// New returns a backend that programs the table ip nodeagent through nft,
// an Interface for (Family, TableName): NewInterface's, or
// knftables.NewFake(Family, TableName) in tests.
func New(cfg proxy.Config, nft knftables.Interface, log *slog.Logger) *Proxier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Proxier{cfg: cfg, nft: nft, log: log, freshRuns: min(runtime.NumCPU(), 4), freshMin: 8192}
}

// Mode is "nftables".
func (p *Proxier) Mode() string { return "nftables" }

// Sync makes the table match s in one transaction: only the difference
// from what was applied last when it can (partial), else everything the
// backend owns, keeping the affinity sets and their entries (full). The
// applied state is unknown at start and after a failed transaction: the
// full sync then lists the table's objects once. When a full transaction
// fails, the same Sync rebuilds the table from nothing (affinity entries
// lost), so that a table the full sync cannot fix does not stay broken.
func (p *Proxier) Sync(ctx context.Context, s *proxy.Snapshot, full bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	if !full && p.applied != nil && p.applied.sameNodeIPs(s) {
		return p.syncChanges(ctx, s, start)
	}
	want, err := compute(p.cfg, s)
	if err != nil {
		return fmt.Errorf("nftables sync: %w", err)
	}
	want.seq = s.Seq
	have, err := p.have(ctx)
	if err != nil {
		return p.rebuild(ctx, want, start, err)
	}
	return p.syncFull(ctx, have, want, start)
}

// syncChanges updates the applied state in place to s, recomputing only
// the service ports that changed, and sends what the update replaced; a
// change the partial transaction cannot carry makes it a full one. On any
// failure the applied state is unknown, so the next sync is full.
func (p *Proxier) syncChanges(ctx context.Context, s *proxy.Snapshot, start time.Time) error {
	st := p.applied
	p.applied = nil
	d, err := st.update(p.cfg, s)
	if err != nil {
		return fmt.Errorf("nftables sync: %w", err)
	}
	tx := p.nft.NewTransaction()
	if partialTransaction(tx, st, d) {
		if tx.NumOperations() == 0 {
			// Nothing to send: spare the nft run (about 10 ms).
			p.applied = st
			return nil
		}
		return p.apply(ctx, tx, st, "partial", start)
	}
	return p.syncFull(ctx, d.before(st), st, start)
}

// syncFull rewrites everything over have, or rebuilds the table when
// that fails.
func (p *Proxier) syncFull(ctx context.Context, have, want *state, start time.Time) error {
	if have.empty() && p.freshRuns > 1 && want.numElements() >= p.freshMin {
		if err := p.syncFresh(ctx, want, start); err != nil {
			return p.rebuild(ctx, want, start, err)
		}
		return nil
	}
	tx := p.nft.NewTransaction()
	fullTransaction(tx, have, want)
	if err := p.apply(ctx, tx, want, "full", start); err != nil {
		return p.rebuild(ctx, want, start, err)
	}
	return nil
}

// syncFresh loads want into a table that holds nothing (the first sync
// after boot or a cleanup) in 1+freshRuns transactions: the chains, sets,
// maps and rules, then the elements cut into freshRuns parts that nft
// processes load at once, on as many CPUs. nft spends about 11 µs of one
// CPU per element (parsing and evaluating it: the same from JSON input),
// most of a large table's load (measured in a lab node at 10,000 Services
// x 3 endpoints: one run 0.46 s, two runs side by side 0.26-0.37 s). Only an
// empty table may be loaded so, not in one transaction: until the last
// part lands some Services are not served yet, as none were before; a
// table that holds anything is rewritten in one transaction, so that no
// Service it serves ever misses its elements.
func (p *Proxier) syncFresh(ctx context.Context, want *state, start time.Time) error {
	_, concurrent := p.nft.(concurrentRunner)
	head := freshHead(p.nft, want)
	var parts []*knftables.Transaction
	var headErr error
	if concurrent {
		// The parts are written while nft loads the head.
		var wg sync.WaitGroup
		wg.Go(func() { parts = freshParts(p.nft, want, p.freshRuns) })
		headErr = p.nft.Run(ctx, head)
		wg.Wait()
	} else {
		headErr = p.nft.Run(ctx, head)
		parts = freshParts(p.nft, want, p.freshRuns)
	}
	if headErr != nil {
		p.applied = nil
		return fmt.Errorf("nftables full sync of an empty table (%d operations): %w", head.NumOperations(), headErr)
	}
	errs := make([]error, len(parts))
	run := func(i int) {
		if err := p.nft.Run(ctx, parts[i]); err != nil {
			errs[i] = fmt.Errorf("elements, part %d of %d (%d operations): %w", i+1, len(parts), parts[i].NumOperations(), err)
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { run(i) })
		}
		wg.Wait()
	} else {
		for i := range parts {
			run(i)
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.applied = nil
		return fmt.Errorf("nftables full sync of an empty table: %w", err)
	}
	p.applied = want
	p.log.Debug("nftables sync", "kind", "fresh", "parts", len(parts), "elements", want.numElements(),
		"took", time.Since(start))
	return nil
}

// have is the table as it is: the applied state, or its objects' names
// as the kernel lists them (none when there is no table).
func (p *Proxier) have(ctx context.Context) (*state, error) {
	if p.applied != nil {
		return p.applied, nil
	}
	all, err := p.nft.ListAll(ctx)
	if knftables.IsNotFound(err) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("list table %s %s: %w", Family, TableName, err)
	}
	return listedState(all), nil
}

// rebuild deletes and rewrites the table because of cause, a failed full
// transaction or listing.
func (p *Proxier) rebuild(ctx context.Context, want *state, start time.Time, cause error) error {
	tx := p.nft.NewTransaction()
	rebuildTransaction(tx, want)
	if err := p.apply(ctx, tx, want, "rebuild", start); err != nil {
		return fmt.Errorf("%w (after: %w)", err, cause)
	}
	p.log.Warn("nftables: table rebuilt, affinity entries lost", "cause", cause)
	return nil
}

// apply runs tx and records want as applied, or the applied state as
// unknown when tx failed.
func (p *Proxier) apply(ctx context.Context, tx *knftables.Transaction, want *state, kind string, start time.Time) error {
	if err := p.nft.Run(ctx, tx); err != nil {
		p.applied = nil
		return fmt.Errorf("nftables %s sync (%d operations): %w", kind, tx.NumOperations(), err)
	}
	p.applied = want
	p.log.Debug("nftables sync", "kind", kind, "operations", tx.NumOperations(),
		"elements", want.numElements(), "took", time.Since(start))
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
