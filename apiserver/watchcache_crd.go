package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// customCaches keeps the stores of the custom resources served, each with
// a watch cache, across the registry's replaces: a version of a definition
// whose spec (generation) and names did not change keeps its store and
// cache; the others' caches stop.
type customCaches struct {
	ctx  context.Context // the caches' lifetime: the server's; nil: no caches
	kv   *clientv3.Client
	log  *slog.Logger
	opts func(r *resource) storage.CacheOptions
	mu   sync.Mutex
	live map[string]customCache // by cacheKey
}

// newCustomCaches readies the custom resources' caches, and the context
// every watch cache runs in, unless the watch cache is off.
func (s *Server) newCustomCaches() *customCaches {
	c := &customCaches{kv: s.backend.Client, log: s.log, opts: s.cacheOptions}
	if !s.cfg.NoWatchCache {
		ctx, cancel := context.WithCancel(context.Background())
		c.ctx, s.stopCaches = ctx, cancel
	}
	return c
}

type customCache struct {
	store *storage.Store
	stop  context.CancelFunc
}

// begin starts a registry replace for the definitions crds: newStore
// gives each resource its store, done stops the caches of the previous
// replace that were not reused.
func (c *customCaches) begin(crds []*apiextensionsv1.CustomResourceDefinition) (newStore func(r *resource) *storage.Store, done func()) {
	if c.ctx == nil {
		return func(r *resource) *storage.Store { return newCustomStore(c.kv, r) }, func() {}
	}
	byName := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, crd := range crds {
		byName[crd.Name] = crd
	}
	c.mu.Lock()
	old := c.live
	c.live = map[string]customCache{}
	c.mu.Unlock()
	newStore = func(r *resource) *storage.Store { return c.store(r, byName[r.custom.crd], old) }
	done = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, cc := range old {
			cc.stop()
		}
	}
	return newStore, done
}

// store reuses the cached store of r's version of crd as it is now, or
// makes one. A cache that cannot list leaves the store to read etcd.
func (c *customCaches) store(r *resource, crd *apiextensionsv1.CustomResourceDefinition, old map[string]customCache) *storage.Store {
	key := customStorePrefix(r) + "|" + r.gvk.String()
	if crd != nil {
		// not the resourceVersion: the definition's own status writes
		// change it and must not re-list its objects
		key += fmt.Sprintf("|%s|%d", crd.UID, crd.Generation)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc, ok := old[key]; ok {
		delete(old, key)
		c.live[key] = cc
		return cc.store
	}
	st := newCustomStore(c.kv, r)
	ctx, stop := context.WithCancel(c.ctx)
	if err := st.StartCache(ctx, c.opts(r)); err != nil {
		c.log.Warn("custom resource served without a watch cache", "resource", r.plural, "err", err)
	}
	c.live[key] = customCache{store: st, stop: stop}
	return st
}
