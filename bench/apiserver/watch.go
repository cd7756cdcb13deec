package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

const (
	// watchPhaseTimeout bounds the whole watch measurement.
	watchPhaseTimeout = 5 * time.Minute
	// watchStopTimeout bounds how long stopped watches may take to end.
	watchStopTimeout = 10 * time.Second
	watchPrefix      = "w-"
	warmupPod        = "w-warmup"
)

// podWatcher is one client-go watch on the bench namespace that records
// when each measured pod's ADDED event arrived.
type podWatcher struct {
	w    watch.Interface
	want int
	warm chan struct{}        // closed when the warm-up pod was seen
	done chan struct{}        // closed when the loop ends; then recv and err are final
	recv map[string]time.Time // pod name -> time the event was received
	err  error
}

// measureWatch starts watchers watches, each on its own connection, creates
// events pods one at a time and reports, over every (watcher, event) pair,
// the time from just before the create was sent to the event's arrival.
func measureWatch(ctx context.Context, cfg *rest.Config, creator kubernetes.Interface, m podMaker, watchers, events int) (stats.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, watchPhaseTimeout)
	defer cancel()
	ws, closeIdle, err := startWatchers(ctx, cfg, creator, watchers, events)
	if err != nil {
		return stats.Summary{}, err
	}
	defer closeIdle()
	defer stopWatchers(ws)
	if err := warmUp(ctx, creator, m, ws); err != nil {
		return stats.Summary{}, err
	}
	start := time.Now()
	sent, err := createOneByOne(ctx, creator, m, events)
	if err != nil {
		return stats.Summary{}, err
	}
	if err := waitAll(ctx, ws, func(w *podWatcher) chan struct{} { return w.done }); err != nil {
		return stats.Summary{}, fmt.Errorf("waiting for %d events on %d watches: %w", events, watchers, err)
	}
	return watchLatencies(ws, sent, time.Since(start))
}

// startWatchers opens the watches from the namespace's current
// resourceVersion, so that they see only what is created after. The func
// returned closes their connections once they are stopped.
func startWatchers(ctx context.Context, cfg *rest.Config, lister kubernetes.Interface, n, want int) ([]*podWatcher, func(), error) {
	list, err := lister.CoreV1().Pods(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("list pods for a resourceVersion: %w", err)
	}
	css, closeIdle, err := newClientsets(cfg, n)
	if err != nil {
		return nil, nil, err
	}
	ws := make([]*podWatcher, 0, n)
	for i, cs := range css {
		w, err := cs.CoreV1().Pods(benchNamespace).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			stopWatchers(ws)
			closeIdle()
			return nil, nil, fmt.Errorf("watch %d on pods in %s: %w", i, benchNamespace, err)
		}
		pw := &podWatcher{w: w, want: want, warm: make(chan struct{}), done: make(chan struct{}),
			recv: make(map[string]time.Time, want)}
		go pw.run()
		ws = append(ws, pw)
	}
	return ws, closeIdle, nil
}

// run records events until every wanted pod was seen or the watch ends.
func (p *podWatcher) run() {
	defer close(p.done)
	warmed := false
	for ev := range p.w.ResultChan() {
		now := time.Now()
		if ev.Type == watch.Error {
			p.err = fmt.Errorf("watch error: %w", apierrors.FromObject(ev.Object))
			return
		}
		pod, ok := ev.Object.(*corev1.Pod)
		if ev.Type != watch.Added || !ok || !strings.HasPrefix(pod.Name, watchPrefix) {
			continue
		}
		if pod.Name == warmupPod {
			if !warmed {
				close(p.warm)
				warmed = true
			}
			continue
		}
		p.recv[pod.Name] = now
		if len(p.recv) == p.want {
			return
		}
	}
	p.err = fmt.Errorf("watch ended after %d of %d events", len(p.recv), p.want)
}

// warmUp creates one unmeasured pod and waits until every watch has
// delivered it, so that the measured events find the watches established.
func warmUp(ctx context.Context, creator kubernetes.Interface, m podMaker, ws []*podWatcher) error {
	if err := createPod(ctx, creator, m.pod(warmupPod, 0)); err != nil {
		return err
	}
	if err := waitAll(ctx, ws, func(w *podWatcher) chan struct{} { return w.warm }); err != nil {
		return fmt.Errorf("waiting for the warm-up event on %d watches: %w", len(ws), err)
	}
	return nil
}

// createOneByOne creates n pods sequentially and returns when each create
// was about to be sent.
func createOneByOne(ctx context.Context, cs kubernetes.Interface, m podMaker, n int) (map[string]time.Time, error) {
	sent := make(map[string]time.Time, n)
	for i := range n {
		name := fmt.Sprintf("%s%04d", watchPrefix, i)
		sent[name] = time.Now()
		if err := createPod(ctx, cs, m.pod(name, i)); err != nil {
			return nil, err
		}
	}
	return sent, nil
}

// waitAll waits until ch(w) is closed for every watcher, or ctx ends. A
// watcher whose loop ended with an error fails the wait at once. (err is
// read only after done is closed: until then the loop may still write it.)
func waitAll(ctx context.Context, ws []*podWatcher, ch func(*podWatcher) chan struct{}) error {
	for i, w := range ws {
		select {
		case <-ch(w):
		case <-w.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if isClosed(w.done) && w.err != nil {
			return fmt.Errorf("watcher %d: %w", i, w.err)
		}
		if !isClosed(ch(w)) {
			return fmt.Errorf("watcher %d: ended without the awaited event", i)
		}
	}
	return nil
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// watchLatencies turns what the watchers recorded into one summary.
func watchLatencies(ws []*podWatcher, sent map[string]time.Time, wall time.Duration) (stats.Summary, error) {
	lat := make([]time.Duration, 0, len(ws)*len(sent))
	for i, w := range ws {
		for name, at := range w.recv {
			t0, ok := sent[name]
			if !ok {
				return stats.Summary{}, fmt.Errorf("watcher %d: event for %s, which the bench did not create", i, name)
			}
			lat = append(lat, at.Sub(t0))
		}
	}
	return stats.Summarize(lat, wall), nil
}

// stopWatchers ends the watches and waits, for a bounded time, for their
// loops to return.
func stopWatchers(ws []*podWatcher) {
	for _, w := range ws {
		w.w.Stop()
	}
	deadline := time.NewTimer(watchStopTimeout)
	defer deadline.Stop()
	for _, w := range ws {
		select {
		case <-w.done:
		case <-deadline.C:
			return
		}
	}
}
