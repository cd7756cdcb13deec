package proxy

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// RunnerConfig tunes the sync loop; DefaultRunnerConfig documents defaults.
type RunnerConfig struct {
	// MinSyncInterval is the least time between two syncs: changes that
	// arrive faster are batched into the next one.
	MinSyncInterval time.Duration
	// FullSyncInterval is how often everything is rewritten even without
	// a change (the safety net against rules others removed). A full sync
	// that takes long pushes the next periodic one out to FullSyncBudget
	// times its duration: at 10,000 Services an iptables full sync takes a
	// minute of kernel time, which must not run back to back.
	FullSyncInterval time.Duration
	// FullSyncBudget bounds the share of time periodic full syncs take
	// (10: at most about a tenth).
	FullSyncBudget int
}

// DefaultRunnerConfig returns the defaults.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{MinSyncInterval: time.Second, FullSyncInterval: 30 * time.Second, FullSyncBudget: 10}
}

// SyncResult is what one sync did, for logs, metrics and benchmarks.
type SyncResult struct {
	Full     bool
	Services int
	Took     time.Duration
	Err      error
}

// Runner is the sync loop: it takes Snapshots from a Tracker when told
// something changed, at most once per MinSyncInterval, and hands them to
// the backend; after an error or every FullSyncInterval the sync is full.
type Runner struct {
	cfg       RunnerConfig
	tracker   *Tracker
	backend   Backend
	conntrack Conntrack
	obs       Observer
	clock     clock.WithTicker
	log       *slog.Logger

	changed  chan struct{}
	fullWant atomic.Bool
	last     *Snapshot
	// lastFull is when the last full sync started and how long it took.
	lastFull     time.Time
	lastFullTook time.Duration
	// OnSync, when set, is called after every sync (tests, benchmarks).
	OnSync func(SyncResult)
}

// NewRunner wires the loop; conntrack may be nil (no stale-flow removal),
// and so may obs (nobody listens).
func NewRunner(cfg RunnerConfig, t *Tracker, b Backend, ct Conntrack, obs Observer, clk clock.WithTicker, log *slog.Logger) *Runner {
	if obs == nil {
		obs = NopObserver{}
	}
	return &Runner{cfg: cfg, tracker: t, backend: b, conntrack: ct, obs: obs, clock: clk, log: log,
		changed: make(chan struct{}, 1)}
}

// Changed tells the loop that the tracker's state changed.
func (r *Runner) Changed() {
	r.obs.Queued()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// RequestFullSync asks for a full sync as soon as the interval allows.
func (r *Runner) RequestFullSync() {
	r.fullWant.Store(true)
	r.Changed()
}

// Run syncs until ctx ends; the first sync is full and immediate.
func (r *Runner) Run(ctx context.Context) {
	r.fullWant.Store(true)
	full := r.clock.NewTicker(r.cfg.FullSyncInterval)
	defer full.Stop()
	var lastSync time.Time
	pending := true
	for {
		if pending {
			if !r.waitInterval(ctx, lastSync) {
				return
			}
			lastSync = r.clock.Now()
			pending = !r.syncOnce(ctx)
		}
		var retry <-chan time.Time
		if pending {
			retry = r.clock.After(r.cfg.MinSyncInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
			pending = true
		case <-full.C():
			if r.periodicFullDue() {
				r.fullWant.Store(true)
				pending = true
			}
		case <-retry:
		}
	}
}

// periodicFullDue says whether the periodic full sync may run now: not
// before FullSyncBudget times the last full sync's duration has passed.
func (r *Runner) periodicFullDue() bool {
	budget := time.Duration(max(r.cfg.FullSyncBudget, 1)) * r.lastFullTook
	return r.lastFull.IsZero() || r.clock.Since(r.lastFull) >= budget
}

// waitInterval waits until MinSyncInterval has passed since last; false
// when ctx ended first.
func (r *Runner) waitInterval(ctx context.Context, last time.Time) bool {
	if last.IsZero() {
		return true
	}
	wait := r.cfg.MinSyncInterval - r.clock.Since(last)
	if wait <= 0 {
		return true
	}
	select {
	case <-ctx.Done():
		return false
	case <-r.clock.After(wait):
		return true
	}
}

// syncOnce runs one sync; false when it failed (the next one is full).
func (r *Runner) syncOnce(ctx context.Context) bool {
	// The duration counts the snapshot too, as kube-proxy's sync metric
	// counts applying its change trackers.
	start := r.clock.Now()
	snap := r.tracker.Snapshot()
	r.obs.SyncStarted()
	full := r.fullWant.Swap(false)
	err := r.backend.Sync(ctx, snap, full)
	res := SyncResult{Full: full, Services: len(snap.Services), Took: r.clock.Since(start), Err: err}
	if full && err == nil {
		r.lastFull, r.lastFullTook = start, res.Took
	}
	if err != nil {
		r.fullWant.Store(true)
		r.log.Warn("proxy sync failed; the next one is full", "mode", r.backend.Mode(), "err", err)
	} else {
		r.log.Debug("proxy synced", "mode", r.backend.Mode(), "full", full, "services", res.Services, "took", res.Took)
		r.clearStale(ctx, snap)
	}
	r.obs.Synced(res, snap)
	if r.OnSync != nil {
		r.OnSync(res)
	}
	return err == nil
}

// clearStale removes conntrack entries of UDP flows the new rules no
// longer send anywhere they were going.
func (r *Runner) clearStale(ctx context.Context, snap *Snapshot) {
	prev := r.last
	r.last = snap
	if r.conntrack == nil {
		return
	}
	for _, f := range staleFlows(prev, snap) {
		if err := r.conntrack.DeleteUDP(ctx, f); err != nil {
			r.log.Warn("stale UDP conntrack entries not removed", "flow", f.String(), "err", err)
		}
	}
}
