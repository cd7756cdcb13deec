package iptables

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nodeagent/nodeagent/proxy"
)

var _ proxy.Backend = (*Proxier)(nil)

// Proxier is the iptables backend. It is not safe for concurrent use: one
// sync loop drives it.
type Proxier struct {
	cfg proxy.Config
	run Runner
	log *slog.Logger

	// applied is what the kernel holds since the last successful restore;
	// nil: unknown, so the next sync is full.
	applied ruleSet
	// maybe are chains of ours that may exist beyond applied (from a
	// failed restore, or from before this process started); a full sync
	// deletes those not wanted.
	maybe map[string]map[string]bool
	// adopted says the chains left by an earlier process were looked up.
	adopted bool
	// lastSize is the size of the last rule set's text, a buffer hint.
	lastSize int
	// jumpsOK says the built-in chains' jumps were ensured since the last
	// full sync or cleanup.
	jumpsOK bool
	// counts are the rule counts after the last successful sync.
	counts ruleCounts
	// batchChains bounds the chains one restore of a large sync declares
	// (0: defaultBatchChains).
	batchChains int
	// lastWant is the rule set of lastSnap, the tracker's snapshot seq; a
	// partial sync of the next snapshot patches it (patch.go).
	lastWant ruleSet
	lastSnap *proxy.Snapshot
	seq      uint64
}

// New returns the iptables backend, which programs through run (a nil log
// discards).
func New(cfg proxy.Config, run Runner, log *slog.Logger) *Proxier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Proxier{cfg: cfg, run: run, log: log, maybe: map[string]map[string]bool{}}
}

// Mode implements proxy.Backend.
func (p *Proxier) Mode() string { return "iptables" }

// Sync implements proxy.Backend: it computes the whole rule set, then sends
// one restore input with the chains that differ from the last applied
// set (every chain when full, or when the last restore failed).
func (p *Proxier) Sync(ctx context.Context, s *proxy.Snapshot, full bool) error {
	start := time.Now()
	want := p.rules(s, full)
	if p.applied == nil {
		full = true
	}
	if !p.adopted {
		p.adoptLeftovers(ctx)
	}
	inputs, changed := restoreInputs(p.applied, want, p.maybe, full, p.batchChains)
	for i, input := range inputs {
		if err := p.run.Restore(ctx, input); err != nil {
			p.forget(want)
			return fmt.Errorf("iptables sync (restore %d of %d): %w", i+1, len(inputs), err)
		}
	}
	input := bytes.Join(inputs, nil)
	p.counts.update(p.applied, input, full)
	p.applied, p.maybe, p.lastSize = want, map[string]map[string]bool{}, want.size()
	if full || !p.jumpsOK {
		if err := p.ensureJumps(ctx); err != nil {
			return fmt.Errorf("iptables sync: %w", err)
		}
	}
	p.log.Debug("iptables synced", "full", full, "chains", changed, "bytes", len(input), "took", time.Since(start))
	return nil
}

// rules is the rule set for s: patched from the last one when s says
// what changed since, else (and for a full sync) built whole.
func (p *Proxier) rules(s *proxy.Snapshot, full bool) ruleSet {
	var want ruleSet
	if changed, ok := s.ChangedSince(p.seq); ok && !full && p.lastWant != nil {
		want = patchRules(p.cfg, p.lastWant, p.lastSnap, s, changed)
	} else {
		want = buildRules(p.cfg, s, p.lastSize)
	}
	p.lastWant, p.lastSnap, p.seq = want, s, s.Seq
	return want
}

// forget marks the kernel's state unknown after a failed restore: every
// chain applied or attempted may exist.
func (p *Proxier) forget(attempted ruleSet) {
	for _, rs := range []ruleSet{p.applied, attempted} {
		for table, chains := range rs {
			for c := range chains {
				p.mark(table, c)
			}
		}
	}
	p.applied = nil
}

func (p *Proxier) mark(table, chain string) {
	if p.maybe[table] == nil {
		p.maybe[table] = map[string]bool{}
	}
	p.maybe[table][chain] = true
}

// adoptLeftovers reads, once per process, which of our chains an earlier
// process left, so that the first full sync deletes the stale ones. It is
// the only read of the kernel outside Cleanup; failing it is not fatal.
func (p *Proxier) adoptLeftovers(ctx context.Context) {
	p.adopted = true
	for _, table := range tables {
		chains, err := p.run.ListChains(ctx, table)
		if err != nil {
			p.log.Warn("cannot list leftover iptables chains", "table", table, "err", err)
			continue
		}
		for _, c := range chains {
			if owned(c) {
				p.mark(table, c)
			}
		}
	}
}
