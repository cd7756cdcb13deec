// Package loop holds the run loop the bundled controllers share: wait for
// the informers, drain a workqueue with one worker, and call a function
// every period on an injected clock; and the queue they drain.
package loop

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// NewQueue is a controller's work queue: kube's default controller rate
// limiter (per-item exponential backoff and an overall token bucket) on
// clk, named name.
func NewQueue[K comparable](clk clock.WithTicker, name string) workqueue.TypedRateLimitingInterface[K] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[K](),
		workqueue.TypedRateLimitingQueueConfig[K]{Clock: clk, Name: name})
}

// Run waits for synced, then runs one worker that syncs the queue's keys
// (retrying failures with the queue's rate limit) and calls tick every
// period, until ctx ends. It returns once its goroutines have.
func Run[K comparable](ctx context.Context, q workqueue.TypedRateLimitingInterface[K], synced []cache.InformerSynced,
	syncKey func(context.Context, K) error, log *slog.Logger,
	clk clock.WithTicker, period time.Duration, tick func()) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer q.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	wg.Go(func() {
		for next(ctx, q, syncKey, log) {
		}
	})
	wg.Go(func() { every(ctx, clk, period, tick) })
	<-ctx.Done()
}

func next[K comparable](ctx context.Context, q workqueue.TypedRateLimitingInterface[K], syncKey func(context.Context, K) error, log *slog.Logger) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	if err := syncKey(ctx, key); err != nil {
		log.Warn("sync failed", "key", key, "err", err)
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}

func every(ctx context.Context, clk clock.WithTicker, period time.Duration, tick func()) {
	t := clk.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			tick()
		}
	}
}
