package storage

import (
	"sort"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
)

// cacheEvent is one change in the cache's window. obj is the object after
// the change, or for a delete the object as it was, at the delete's
// revision; prev is the object before the change (nil on create).
type cacheEvent struct {
	rev     int64
	key     string
	obj     runtime.Object
	prev    runtime.Object
	deleted bool
}

// ring holds the most recent events in revision order, at most max of
// them, each numbered (seq) so that a watch can tell where it is.
type ring struct {
	buf   []cacheEvent // grows to max, then the oldest is overwritten
	first uint64       // seq of the oldest event held
	max   int
	since int64 // every event after this revision is held
}

func newRing(max int, rev int64) ring { return ring{max: max, since: rev} }

func (r *ring) end() uint64 { return r.first + uint64(len(r.buf)) }

// at is the slot of seq: seqs start at 0 with the ring, which fills its
// buffer in order, then overwrites the oldest.
func (r *ring) at(seq uint64) *cacheEvent { return &r.buf[seq%uint64(r.max)] }

func (r *ring) push(e cacheEvent) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, e)
		return
	}
	oldest := r.at(r.first)
	r.since = oldest.rev
	*oldest = e
	r.first++
}

// after returns the seq of the first event after rev (rev >= r.since).
func (r *ring) after(rev int64) uint64 {
	i := sort.Search(len(r.buf), func(i int) bool { return r.at(r.first+uint64(i)).rev > rev })
	return r.first + uint64(i)
}

// from copies up to n events from seq on into dst, reusing its storage;
// ok is false when seq has been dropped already.
func (r *ring) from(dst []cacheEvent, seq uint64, n int) ([]cacheEvent, bool) {
	if seq < r.first {
		return nil, false
	}
	count := min(int(r.end()-seq), n)
	out := dst[:0]
	for i := range count {
		out = append(out, *r.at(seq + uint64(i)))
	}
	return out, true
}

// apply turns a batch of etcd events into the cache's new state and window.
func (c *cacher) apply(events []*clientv3.Event) error {
	puts := make([]*cached, len(events))
	for i, ev := range events {
		if ev.Type != mvccpb.PUT {
			continue
		}
		e, err := c.decode(keyValue{ev.Kv.Key, ev.Kv.Value, ev.Kv.ModRevision})
		if err != nil {
			return err
		}
		puts[i] = e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, ev := range events {
		c.applyOne(string(ev.Kv.Key), ev.Kv.ModRevision, puts[i])
	}
	if n := len(events); n > 0 {
		c.rev = max(c.rev, events[n-1].Kv.ModRevision)
	}
	c.notifyLocked()
	return nil
}

// applyOne stores e at key (nil: deletes key) and records the event.
func (c *cacher) applyOne(key string, rev int64, e *cached) {
	var prev *cached
	if e != nil {
		prev, _ = c.objs.ReplaceOrInsert(e)
	} else {
		prev, _ = c.objs.Delete(&cached{key: key})
	}
	if prev != nil {
		c.index.remove(prev)
	}
	ev := cacheEvent{rev: rev, key: key}
	if prev != nil {
		ev.prev = prev.obj
	}
	switch {
	case e != nil:
		c.index.add(e)
		ev.obj = e.obj
	case prev != nil:
		gone := prev.obj.DeepCopyObject()
		setRV(gone, rev)
		ev.obj, ev.deleted = gone, true
	default:
		return // a delete of what the cache never had
	}
	c.ring.push(ev)
}
