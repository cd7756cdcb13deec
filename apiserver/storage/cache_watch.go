package storage

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// cacheStart is where a watch served from the cache begins: the objects
// to report first, the window position and the revision it is at.
type cacheStart struct {
	initial []runtime.Object
	seq     uint64
	gen     int
	rev     int64 // the watch reports changes after rev
}

// watch serves a watch from the cache; ok is false when etcd must serve
// it (the cache is re-listing, or did not catch up in time).
func (c *cacher) watch(ctx context.Context, namespace string, opts WatchOptions, limits WatchLimits) (watch.Interface, bool, error) {
	state := opts.Revision == 0 || opts.SendInitialEvents
	if state && !c.waitForState(ctx, opts.Revision) {
		if cur, ready := c.current(); ready && opts.Revision > 0 {
			return nil, true, tooLargeRV(c.store.scope(namespace), opts.Revision, cur)
		}
		return nil, false, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{store: c.store, opts: opts, limits: limits, cancel: cancel,
		result: make(chan watch.Event, limits.Buffer), done: make(chan struct{}), namespace: namespace}
	context.AfterFunc(ctx, w.Stop)
	c.mu.RLock()
	if !c.ready {
		c.mu.RUnlock()
		cancel()
		return nil, false, nil
	}
	start := cacheStart{gen: c.gen, rev: opts.Revision, seq: c.ring.end()}
	switch {
	case state:
		start.rev = c.rev
		c.visit(c.store.scope(namespace), opts.Hints, func(e *cached) bool {
			if w.match(e.obj) && w.keyOK(e.key) {
				start.initial = append(start.initial, share(e.obj, opts.Shared))
			}
			return true
		})
	case opts.Revision < c.ring.since:
		since := c.ring.since
		c.mu.RUnlock()
		go w.fail(errorEvent(http.StatusGone, metav1.StatusReasonExpired,
			fmt.Sprintf("too old resource version: %d (%d)", opts.Revision, since)))
		return w, true, nil
	default:
		start.seq = c.ring.after(opts.Revision)
	}
	c.mu.RUnlock()
	go w.runCached(c, start)
	return w, true, nil
}

// waitForState waits until the cache may give a watch's initial state:
// at rev or later, or for 0 as fresh as etcd.
func (c *cacher) waitForState(ctx context.Context, rev int64) bool {
	if rev == 0 {
		return c.waitFresh(ctx)
	}
	return c.waitFor(ctx, rev)
}

// fail reports one error and ends the watch.
func (w *watcher) fail(e watch.Event) {
	defer close(w.result)
	defer w.Stop()
	w.send(e)
}

// keyOK says whether a key is in the watch's namespace and, for a watch
// of one object, is that object's.
func (w *watcher) keyOK(key string) bool {
	if w.opts.Name != "" {
		return key == w.store.Key(w.namespace, w.opts.Name)
	}
	return strings.HasPrefix(key, w.store.scope(w.namespace))
}

// runCached reports the initial state, then the window's events after
// start.rev, until the watch is stopped, falls out of the window (a client
// too slow to keep up), or the cache re-lists.
func (w *watcher) runCached(c *cacher, start cacheStart) {
	defer close(w.result)
	defer w.Stop()
	for _, obj := range start.initial {
		if !w.send(watch.Event{Type: watch.Added, Object: obj}) {
			return
		}
	}
	if w.opts.SendInitialEvents && w.opts.Bookmarks && !w.send(w.bookmark(start.rev, true)) {
		return
	}
	var tick <-chan time.Time
	if w.opts.Bookmarks {
		t := time.NewTicker(w.limits.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	known, seq := start.rev, start.seq
	var buf []cacheEvent // one batch's events, reused for the next
	for {
		evs, next, rev, changed, ok := c.since(buf, seq, start.gen)
		if !ok {
			return
		}
		for _, ev := range evs {
			if ev.rev <= start.rev || !w.keyOK(ev.key) {
				continue
			}
			if e, ok := w.cachedEvent(ev); ok && !w.send(e) {
				return
			}
		}
		clear(evs) // keeps no object alive while the watch waits
		buf = evs
		seq, known = next, max(known, rev)
		if len(evs) > 0 {
			continue
		}
		select {
		case <-w.done:
			return
		case <-changed:
		case <-tick:
			if !w.send(w.bookmark(known, false)) {
				return
			}
			c.requestProgress()
		}
	}
}

// since returns the window's events from seq on (in buf's storage), the
// position after them and the revision the watch is then at; ok is false
// when the watch must end (re-listed, stopped serving, or seq dropped from
// the window).
func (c *cacher) since(buf []cacheEvent, seq uint64, gen int) ([]cacheEvent, uint64, int64, <-chan struct{}, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if gen != c.gen || !c.ready {
		return nil, 0, 0, nil, false
	}
	evs, ok := c.ring.from(buf, seq, 256)
	if !ok {
		return nil, 0, 0, nil, false
	}
	next := seq + uint64(len(evs))
	rev := c.rev
	if next != c.ring.end() {
		rev = evs[len(evs)-1].rev
	}
	return evs, next, rev, c.changed, true
}

// cachedEvent is what the watch reports of one change.
func (w *watcher) cachedEvent(ev cacheEvent) (watch.Event, bool) {
	cur := ev.obj
	if ev.deleted {
		cur = nil
	}
	e, ok := w.transition(cur, ev.prev, ev.obj)
	if ok && !w.opts.Shared {
		e.Object = e.Object.DeepCopyObject()
	}
	return e, ok
}
