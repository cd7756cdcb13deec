package storage

import (
	"context"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
)

// Hints are equality requirements that every object a Match accepts
// meets (spec.nodeName=X, app=web); the watch cache reads an index for one
// of them rather than every object. Match still decides.
type Hints struct {
	Fields map[string]string
	Labels map[string]string
}

// list serves a list from the cache; ok is false when etcd must answer
// (the cache is re-listing, or did not catch up in time).
func (c *cacher) list(ctx context.Context, namespace string, opts ListOptions) (ListResult, bool, error) {
	switch {
	case opts.AnyRevision:
	case opts.MinRevision > 0:
		if !c.waitFor(ctx, opts.MinRevision) {
			if cur, ready := c.current(); ready {
				return ListResult{}, true, tooLargeRV(c.store.scope(namespace), opts.MinRevision, cur)
			}
			return ListResult{}, false, nil
		}
	default:
		if !c.waitFresh(ctx) {
			return ListResult{}, false, nil
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return ListResult{}, false, nil
	}
	res := ListResult{Revision: c.rev}
	last := ""
	c.visit(c.store.scope(namespace), opts.Hints, func(e *cached) bool {
		if opts.Limit > 0 && int64(len(res.Items)) == opts.Limit {
			// more objects follow: etcd carries on from here at c.rev
			res.Continue = encodeToken(token{Rev: c.rev, Start: last + "\x00"})
			return false
		}
		if opts.Match == nil || opts.Match(e.obj) {
			res.Items = append(res.Items, share(e.obj, opts.Shared))
			last = e.key
		}
		return true
	})
	return res, true, nil
}

// visit calls fn on the objects under scope in key order, only on those
// an index gives for the hints if one does, until fn returns false.
func (c *cacher) visit(scope string, h Hints, fn func(*cached) bool) {
	if set, ok := c.index.pick(h); ok {
		in := make([]*cached, 0, len(set))
		for key, e := range set {
			if strings.HasPrefix(key, scope) {
				in = append(in, e)
			}
		}
		slices.SortFunc(in, func(a, b *cached) int { return strings.Compare(a.key, b.key) })
		for _, e := range in {
			if !fn(e) {
				return
			}
		}
		return
	}
	c.objs.AscendRange(&cached{key: scope}, &cached{key: clientv3.GetPrefixRangeEnd(scope)}, fn)
}

// share returns obj itself to a caller that promised not to modify it,
// else a copy.
func share(obj runtime.Object, shared bool) runtime.Object {
	if shared {
		return obj
	}
	return obj.DeepCopyObject()
}

// current returns the cache's revision and whether it is serving.
func (c *cacher) current() (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev, c.ready
}

// waitFresh waits until the cache holds every change etcd had when the
// call was made (kube's consistent read from cache): etcd's revision comes
// from a read of one key.
func (c *cacher) waitFresh(ctx context.Context) bool {
	resp, err := c.store.kv.Get(ctx, c.store.prefix, clientv3.WithKeysOnly())
	if err != nil {
		return false
	}
	return c.waitFor(ctx, resp.Header.Revision)
}

// waitFor waits up to freshTimeout until the cache has applied every
// change up to rev. Progress notifications tell a cache whose objects did
// not change that it is current; etcd drops a request while the watch is
// catching up, so it is repeated.
func (c *cacher) waitFor(ctx context.Context, rev int64) bool {
	deadline := time.NewTimer(freshTimeout)
	defer deadline.Stop()
	retry := time.NewTicker(100 * time.Millisecond)
	defer retry.Stop()
	for {
		c.mu.RLock()
		cur, ready, changed := c.rev, c.ready, c.changed
		c.mu.RUnlock()
		if ready && cur >= rev {
			return true
		}
		c.requestProgress()
		select {
		case <-changed:
		case <-retry.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
