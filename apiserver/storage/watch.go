package storage

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// InitialEventsEndAnnotation marks the bookmark that ends the initial events
// of a watch that asked for them (sendInitialEvents=true).
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

// WatchOptions shape a watch.
type WatchOptions struct {
	// Revision: report changes after it. 0 (or SendInitialEvents) first
	// reports every current object as ADDED, then changes after that.
	Revision int64
	// SendInitialEvents asks for the current objects first, then a bookmark
	// annotated with InitialEventsEndAnnotation (with Bookmarks).
	SendInitialEvents bool
	// Bookmarks asks for BOOKMARK events carrying the current revision.
	Bookmarks bool
	// Match filters objects: an object that stops matching is reported as
	// DELETED, one that starts matching as ADDED.
	Match Match
	// Name limits the watch to one object (metadata.name=...); "" for all.
	Name string
	// Hints narrow the initial state through the watch cache's indexes.
	Hints Hints
	// Shared: the caller does not modify the objects of the events, so the
	// watch cache may hand out the objects it holds rather than copies.
	Shared bool
}

// WatchLimits bound what a watch may hold for a slow client.
type WatchLimits struct {
	// Buffer is how many events wait for the client. Default 1000.
	Buffer int
	// SlowTimeout is how long a full buffer may stay full before the watch
	// is ended (the client re-watches from its last revision). Default 10 s.
	SlowTimeout time.Duration
	// BookmarkInterval is how often a bookmark is sent. Default 30 s.
	BookmarkInterval time.Duration
}

func (l WatchLimits) withDefaults() WatchLimits {
	if l.Buffer <= 0 {
		l.Buffer = 1000
	}
	if l.SlowTimeout <= 0 {
		l.SlowTimeout = 10 * time.Second
	}
	if l.BookmarkInterval <= 0 {
		l.BookmarkInterval = 30 * time.Second
	}
	return l
}

// watcher turns one etcd watch into API watch events.
type watcher struct {
	store  *Store
	opts   WatchOptions
	limits WatchLimits
	result chan watch.Event
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}
	// namespace is the watch's ("" for all); the etcd watch's key range
	// says it, the watch cache checks the keys of its events against it.
	namespace string
}

var _ watch.Interface = &watcher{}

// Watch reports changes to the objects in namespace ("" for all).
func (s *Store) Watch(ctx context.Context, namespace string, opts WatchOptions, limits WatchLimits) (watch.Interface, error) {
	limits = limits.withDefaults()
	if c := s.cache.Load(); c != nil {
		if w, ok, err := c.watch(ctx, namespace, opts, limits); ok {
			return w, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{store: s, opts: opts, limits: limits, cancel: cancel,
		result: make(chan watch.Event, limits.Buffer), done: make(chan struct{})}
	rev := opts.Revision
	var initial []runtime.Object
	if rev == 0 || opts.SendInitialEvents {
		var err error
		if initial, rev, err = w.initialState(ctx, namespace); err != nil {
			cancel()
			return nil, err
		}
	}
	go w.run(ctx, namespace, rev, initial)
	return w, nil
}

func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

func (w *watcher) Stop() {
	w.once.Do(func() {
		w.cancel()
		close(w.done)
	})
}

// initialState lists the current objects that match.
func (w *watcher) initialState(ctx context.Context, namespace string) ([]runtime.Object, int64, error) {
	res, err := w.store.List(ctx, namespace, ListOptions{Revision: w.opts.Revision, Match: w.match})
	return res.Items, res.Revision, err
}

func (w *watcher) match(obj runtime.Object) bool {
	if w.opts.Name != "" && nameOf(obj) != w.opts.Name {
		return false
	}
	return w.opts.Match == nil || w.opts.Match(obj)
}

func (w *watcher) run(ctx context.Context, namespace string, rev int64, initial []runtime.Object) {
	defer close(w.result)
	defer w.Stop()
	for _, obj := range initial {
		if !w.send(watch.Event{Type: watch.Added, Object: obj}) {
			return
		}
	}
	if w.opts.SendInitialEvents && w.opts.Bookmarks {
		if !w.send(w.bookmark(rev, true)) {
			return
		}
	}
	w.follow(ctx, namespace, rev)
}

// follow relays etcd's changes after rev until the watch ends.
func (w *watcher) follow(ctx context.Context, namespace string, rev int64) {
	key := w.store.scope(namespace)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(rev + 1), clientv3.WithPrevKV()}
	if w.opts.Name != "" {
		key, opts = w.store.Key(namespace, w.opts.Name), opts[1:]
	}
	// Bookmarks: at each interval the watch sends one at the newest
	// revision it knows all changes up to (the last event's, or the last
	// progress report's), then asks etcd for progress. The client
	// multiplexes watches on gRPC streams chosen by the context, so the
	// request is made with the very context of the Watch call; etcd answers
	// only once the store has moved past the watch's start revision.
	wctx := clientv3.WithRequireLeader(ctx)
	events := w.store.kv.Watch(wctx, key, opts...)
	ticker := time.NewTicker(w.limits.BookmarkInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if w.opts.Bookmarks {
				if !w.send(w.bookmark(rev, false)) {
					return
				}
				w.store.kv.RequestProgress(wctx)
			}
		case resp, ok := <-events:
			if !ok || !w.relay(resp, &rev) {
				return
			}
		}
	}
}

// relay sends the events of one etcd response; false ends the watch.
func (w *watcher) relay(resp clientv3.WatchResponse, rev *int64) bool {
	if resp.CompactRevision != 0 {
		w.send(errorEvent(http.StatusGone, metav1.StatusReasonExpired, "too old resource version"))
		return false
	}
	if err := resp.Err(); err != nil {
		w.send(errorEvent(http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error()))
		return false
	}
	if resp.IsProgressNotify() {
		*rev = max(*rev, resp.Header.Revision)
		return true
	}
	for _, ev := range resp.Events {
		e, ok, err := w.translate(ev)
		if err != nil {
			w.send(errorEvent(http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error()))
			return false
		}
		*rev = ev.Kv.ModRevision
		if ok && !w.send(e) {
			return false
		}
	}
	return true
}

// translate turns an etcd event into a watch event, applying Match the way
// kube-apiserver does: leaving the selection is DELETED, entering it ADDED.
func (w *watcher) translate(ev *clientv3.Event) (watch.Event, bool, error) {
	var cur, prev runtime.Object
	var err error
	if ev.Type == mvccpb.PUT {
		if cur, err = w.store.decode(ev.Kv.Value, ev.Kv.ModRevision); err != nil {
			return watch.Event{}, false, err
		}
	}
	if ev.PrevKv != nil {
		if prev, err = w.store.decode(ev.PrevKv.Value, ev.Kv.ModRevision); err != nil {
			return watch.Event{}, false, err
		}
	}
	e, ok := w.transition(cur, prev, prev)
	return e, ok, nil
}

// transition is the event of a change from prev (nil: created) to cur
// (nil: deleted, and gone is the object deleted): leaving the selection is
// DELETED, entering it ADDED.
func (w *watcher) transition(cur, prev, gone runtime.Object) (watch.Event, bool) {
	curOK := cur != nil && w.match(cur)
	prevOK := prev != nil && w.match(prev)
	switch {
	case curOK && prevOK:
		return watch.Event{Type: watch.Modified, Object: cur}, true
	case curOK:
		return watch.Event{Type: watch.Added, Object: cur}, true
	case prevOK && cur != nil:
		return watch.Event{Type: watch.Deleted, Object: cur}, true
	case prevOK:
		return watch.Event{Type: watch.Deleted, Object: gone}, true
	}
	return watch.Event{}, false
}

// send hands an event to the client; a client that does not take events for
// SlowTimeout while the buffer is full loses its watch.
func (w *watcher) send(e watch.Event) bool {
	select {
	case w.result <- e:
		return true
	case <-w.done:
		return false
	default:
	}
	timer := time.NewTimer(w.limits.SlowTimeout)
	defer timer.Stop()
	select {
	case w.result <- e:
		return true
	case <-w.done:
		return false
	case <-timer.C:
		return false
	}
}

func (w *watcher) bookmark(rev int64, initialEnd bool) watch.Event {
	obj := w.store.newObj()
	setRV(obj, rev)
	if initialEnd {
		if m, ok := obj.(metav1.Object); ok {
			m.SetAnnotations(map[string]string{InitialEventsEndAnnotation: "true"})
		}
	}
	return watch.Event{Type: watch.Bookmark, Object: obj}
}

func errorEvent(code int32, reason metav1.StatusReason, msg string) watch.Event {
	return watch.Event{Type: watch.Error, Object: &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
	}}
}

func nameOf(obj runtime.Object) string {
	if m, ok := obj.(metav1.Object); ok {
		return m.GetName()
	}
	return ""
}
