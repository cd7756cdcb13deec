package apiauth

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ttlCache is a bounded map whose entries expire. When full, expired
// entries go first, then arbitrary ones: a flood of distinct keys (random
// tokens) costs lookups, not memory.
type ttlCache[K comparable, V any] struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	max   int
	m     map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[K comparable, V any](c clock.PassiveClock, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{clock: c, max: max, m: map[K]cacheEntry[V]{}}
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !c.clock.Now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) set(k K, v V, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.makeRoom()
	}
	c.m[k] = cacheEntry[V]{v: v, expires: c.clock.Now().Add(ttl)}
}

// makeRoom removes expired entries, or one entry if none has expired.
func (c *ttlCache[K, V]) makeRoom() {
	now := c.clock.Now()
	for k, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, k)
		}
	}
	if len(c.m) < c.max {
		return
	}
	for k := range c.m {
		delete(c.m, k)
		return
	}
}

func (c *ttlCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
