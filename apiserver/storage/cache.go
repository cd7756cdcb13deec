package storage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/btree"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
	"k8s.io/apimachinery/pkg/runtime"
)

// freshTimeout is how long a read waits for the cache to reach a revision
// (kube-apiserver's cacher waits 3 s) before it goes to etcd or fails.
const freshTimeout = 3 * time.Second

// CacheOptions shape a store's watch cache.
type CacheOptions struct {
	// Indexes extract a field's value from an object (for example pods'
	// spec.nodeName); a list whose Hints name the field reads the index.
	// Every object's labels are indexed too.
	Indexes map[string]IndexFunc
	// Prepare adjusts every object before the cache shares it (the API
	// server sets apiVersion and kind, so that nothing has to later).
	Prepare func(runtime.Object)
	// Window is how many recent events watches may start within.
	// Default 4096.
	Window int
	// Log reports the cache's re-lists.
	Log *slog.Logger
}

// IndexFunc returns the value an object is indexed under.
type IndexFunc func(runtime.Object) string

// cacher keeps a store's current objects and its recent events in memory,
// fed by one etcd watch (kube-apiserver's watch cache). Objects in it are
// shared and never modified: an event replaces an object with a new one.
type cacher struct {
	store   *Store
	opts    CacheOptions
	mu      sync.RWMutex
	objs    *btree.BTreeG[*cached]
	index   *cacheIndex
	rev     int64 // every change up to rev is applied
	ring    ring
	gen     int           // bumped at every re-list: older watches end
	ready   bool          // false while re-listing: reads go to etcd
	changed chan struct{} // closed and replaced when rev or the events change
	// progress asks the watch loop for an etcd progress notification.
	progress chan struct{}
}

// cached is one object in the cache, under its key.
type cached struct {
	key string
	obj runtime.Object
}

func lessCached(a, b *cached) bool { return a.key < b.key }

// StartCache lists the store's objects, then keeps them current from one
// etcd watch until ctx ends; List and Watch are served from the cache once
// it is current. The first list happens before StartCache returns.
func (s *Store) StartCache(ctx context.Context, opts CacheOptions) error {
	if opts.Window <= 0 {
		opts.Window = 4096
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c := &cacher{store: s, opts: opts, changed: make(chan struct{}), progress: make(chan struct{}, 1)}
	rev, err := c.relist(ctx)
	if err != nil {
		return err
	}
	s.cache.Store(c)
	go c.run(ctx, rev)
	return nil
}

// run follows etcd from rev, and re-lists whenever the watch fails (a
// compaction, a lost leader) until ctx ends.
func (c *cacher) run(ctx context.Context, rev int64) {
	for {
		err := c.follow(ctx, rev)
		if ctx.Err() != nil {
			c.setReady(false)
			return
		}
		c.opts.Log.Info("watch cache: re-listing", "prefix", c.store.prefix, "err", err)
		c.setReady(false)
		for {
			if rev, err = c.relist(ctx); err == nil {
				break
			}
			c.opts.Log.Warn("watch cache: list failed", "prefix", c.store.prefix, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// relist reads every object at one revision and makes that the cache's
// state; the watches of the previous state end (their clients resume from
// their last revision, or re-list if it is too old).
func (c *cacher) relist(ctx context.Context) (int64, error) {
	objs := btree.NewG(32, lessCached)
	index := newCacheIndex(c.opts.Indexes)
	start, end := c.store.prefix, clientv3.GetPrefixRangeEnd(c.store.prefix)
	var rev int64
	for {
		kvs, more, readRev, err := c.store.readBatch(ctx, start, end, rev, 1000)
		if err != nil {
			return 0, err
		}
		rev = readRev
		for _, kv := range kvs {
			e, err := c.decode(kv)
			if err != nil {
				return 0, err
			}
			objs.ReplaceOrInsert(e)
			index.add(e)
		}
		if !more || len(kvs) == 0 {
			break
		}
		start = string(kvs[len(kvs)-1].Key) + "\x00"
	}
	c.mu.Lock()
	c.objs, c.index, c.rev = objs, index, rev
	c.ring = newRing(c.opts.Window, rev)
	c.gen++
	c.ready = true
	c.notifyLocked()
	c.mu.Unlock()
	return rev, nil
}

func (c *cacher) decode(kv keyValue) (*cached, error) {
	obj, err := c.store.decode(kv.Value, kv.ModRevision)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kv.Key, err)
	}
	if c.opts.Prepare != nil {
		c.opts.Prepare(obj)
	}
	return &cached{key: string(kv.Key), obj: obj}, nil
}

func (c *cacher) setReady(ready bool) {
	c.mu.Lock()
	c.ready = ready
	c.notifyLocked()
	c.mu.Unlock()
}

// notifyLocked wakes everyone waiting for a change.
func (c *cacher) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// follow applies etcd's changes after rev until the watch fails or ctx
// ends. The watch runs on a gRPC stream of its own (the client picks the
// stream by the context's metadata), so that a progress request reaches
// this watch and no other.
func (c *cacher) follow(ctx context.Context, rev int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wctx := metadata.AppendToOutgoingContext(clientv3.WithRequireLeader(ctx), "nodeagent-watch-cache", c.store.prefix)
	events := c.store.kv.Watch(wctx, c.store.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithProgressNotify())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.progress:
			c.store.kv.RequestProgress(wctx)
		case resp, ok := <-events:
			if !ok {
				return fmt.Errorf("watch closed")
			}
			if resp.CompactRevision != 0 {
				return fmt.Errorf("history compacted at %d", resp.CompactRevision)
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if resp.IsProgressNotify() {
				c.advance(resp.Header.Revision)
				continue
			}
			if err := c.apply(resp.Events); err != nil {
				return err
			}
		}
	}
}

// requestProgress asks etcd, without waiting, to tell the cache its
// current revision once the cache has seen every change up to it.
func (c *cacher) requestProgress() {
	select {
	case c.progress <- struct{}{}:
	default:
	}
}

// advance records that every change up to rev has been applied.
func (c *cacher) advance(rev int64) {
	c.mu.Lock()
	if rev > c.rev {
		c.rev = rev
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// Cached says whether the store serves lists and watches from a watch cache.
func (s *Store) Cached() bool { return s.cache.Load() != nil }
