package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// recordingBackend records syncs and fails when told to.
type recordingBackend struct {
	mu    sync.Mutex
	syncs []bool // full or not
	fail  bool
}

func (b *recordingBackend) Mode() string                  { return "recording" }
func (b *recordingBackend) Cleanup(context.Context) error { return nil }
func (b *recordingBackend) Sync(_ context.Context, _ *Snapshot, full bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.syncs = append(b.syncs, full)
	if b.fail {
		return errors.New("restore failed")
	}
	return nil
}

type recordingConntrack struct {
	mu    sync.Mutex
	flows []Flow
}

func (c *recordingConntrack) DeleteUDP(_ context.Context, f Flow) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flows = append(c.flows, f)
	return nil
}

type loopHarness struct {
	t       *testing.T
	clock   *clocktesting.FakeClock
	backend *recordingBackend
	ct      *recordingConntrack
	tracker *Tracker
	runner  *Runner
	results chan SyncResult
}

func startLoop(t *testing.T) *loopHarness { return startLoopWith(t, nil) }

// startLoopWith runs a loop whose observer is obs (nil: none).
func startLoopWith(t *testing.T, obs Observer) *loopHarness {
	h := &loopHarness{t: t, clock: clocktesting.NewFakeClock(time.Unix(1000, 0)), backend: &recordingBackend{},
		ct: &recordingConntrack{}, tracker: NewTracker("n1"), results: make(chan SyncResult, 100)}
	h.runner = NewRunner(DefaultRunnerConfig(), h.tracker, h.backend, h.ct, obs, h.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.runner.OnSync = func(r SyncResult) { h.results <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// next waits for the next sync.
func (h *loopHarness) next() SyncResult {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(5 * time.Second):
		h.t.Fatal("no sync happened")
		return SyncResult{}
	}
}

// none checks that no sync is pending once the loop waits on its timers.
func (h *loopHarness) none() {
	h.t.Helper()
	h.waitIdle()
	select {
	case r := <-h.results:
		h.t.Fatalf("unexpected sync %+v", r)
	default:
	}
}

// waitIdle waits until the loop blocks on the fake clock.
func (h *loopHarness) waitIdle() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !h.clock.HasWaiters() {
		if time.Now().After(deadline) {
			h.t.Fatal("loop never waited on the clock")
		}
		time.Sleep(time.Millisecond) // polling a condition, not synchronising on time
	}
}

func TestRunnerFirstSyncIsFullThenBatched(t *testing.T) {
	h := startLoop(t)
	if r := h.next(); !r.Full {
		t.Fatal("the first sync must be full")
	}
	h.waitIdle()
	h.runner.Changed()
	h.runner.Changed()
	h.none() // within MinSyncInterval of the first sync
	h.clock.Step(time.Second)
	if r := h.next(); r.Full {
		t.Fatal("a change gives a partial sync")
	}
	h.none() // two changes, one sync
}

func TestRunnerPeriodicFullSync(t *testing.T) {
	h := startLoop(t)
	h.next()
	h.waitIdle()
	h.clock.Step(30 * time.Second)
	if r := h.next(); !r.Full {
		t.Fatal("the periodic resync must be full")
	}
	h.waitIdle()
	h.clock.Step(time.Second)
	h.runner.RequestFullSync()
	if r := h.next(); !r.Full {
		t.Fatal("a requested sync must be full")
	}
}

func TestRunnerRetriesFullAfterError(t *testing.T) {
	h := startLoop(t)
	h.next()
	h.backend.mu.Lock()
	h.backend.fail = true
	h.backend.mu.Unlock()
	h.waitIdle()
	h.clock.Step(time.Second)
	h.runner.Changed()
	if r := h.next(); r.Err == nil || r.Full {
		t.Fatalf("want a failed partial sync, got %+v", r)
	}
	h.backend.mu.Lock()
	h.backend.fail = false
	h.backend.mu.Unlock()
	h.waitIdle()
	h.clock.Step(time.Second) // the retry, without any new change
	if r := h.next(); r.Err != nil || !r.Full {
		t.Fatalf("want a successful full retry, got %+v", r)
	}
}

func TestRunnerClearsStaleUDPFlows(t *testing.T) {
	h := startLoop(t)
	h.next() // the first, empty sync: what follows is synced after it
	h.waitIdle()
	h.tracker.UpdateService(service("dns", "10.96.0.10", port("", 53, "UDP")))
	s := slice("dns", "dns-a", []discoveryPort{udpPort(53)}, endpoint("10.244.0.2", "n1", nil, nil, nil))
	h.tracker.UpdateSlice(s)
	h.clock.Step(time.Second)
	h.runner.Changed()
	h.next()
	h.waitIdle()
	h.ct.mu.Lock()
	h.ct.flows = nil // those of the Service that got endpoints
	h.ct.mu.Unlock()
	h.tracker.DeleteSlice(s)
	h.clock.Step(time.Second)
	h.runner.Changed()
	h.next()
	h.ct.mu.Lock()
	defer h.ct.mu.Unlock()
	if len(h.ct.flows) != 1 || h.ct.flows[0].ReplySrc.String() != "10.244.0.2" || h.ct.flows[0].DstPort != 53 {
		t.Fatalf("flows: %v", h.ct.flows)
	}
}

// slowBackend's full syncs take 10 s of fake time.
type slowBackend struct {
	recordingBackend
	clock *clocktesting.FakeClock
}

func (b *slowBackend) Sync(ctx context.Context, s *Snapshot, full bool) error {
	if full {
		b.clock.Step(10 * time.Second)
	}
	return b.recordingBackend.Sync(ctx, s, full)
}

func TestRunnerSpacesOutSlowFullSyncs(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	b := &slowBackend{clock: clk}
	h := &loopHarness{t: t, clock: clk, results: make(chan SyncResult, 100)}
	r := NewRunner(DefaultRunnerConfig(), NewTracker("n1"), b, nil, nil, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.OnSync = func(res SyncResult) { h.results <- res }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if res := h.next(); !res.Full || res.Took != 10*time.Second {
		t.Fatalf("first sync: %+v", res)
	}
	for i := 0; i < 3; i++ { // 30 s, 60 s, 90 s after the first full sync started
		h.waitIdle()
		clk.Step(30 * time.Second)
		if i < 2 {
			h.none() // 10 x 10 s = 100 s must pass first
		}
	}
	if res := h.next(); !res.Full {
		t.Fatalf("after 100 s the periodic full sync runs: %+v", res)
	}
}
