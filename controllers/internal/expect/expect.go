// Package expect holds the expectations the ReplicaSet and DaemonSet
// controllers keep (kube's UIDTrackingControllerExpectations): per owner
// key, the pod creates and deletes the controller made that its pod cache
// has not shown yet. Until they are seen the owner is not managed again,
// so a lagging cache never makes it create a pod twice or delete one
// twice. A delete is counted once per pod (by a key of the caller's
// choice), and expectations older than Timeout are given up on, so a lost
// watch event delays a sync, never stops it.
package expect

import (
	"sync"
	"time"
)

// Timeout is how long pending expectations hold an owner back (kube's
// ExpectationsTimeout).
const Timeout = 5 * time.Minute

// Expectations are the pending creates and deletes of every owner key;
// K names a pod being deleted.
type Expectations[K comparable] struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*pending[K]
}

type pending[K comparable] struct {
	adds int
	dels map[K]bool
	at   time.Time
}

// New returns empty expectations that read the time from now.
func New[K comparable](now func() time.Time) *Expectations[K] {
	return &Expectations[K]{now: now, m: map[string]*pending[K]{}}
}

// Expect replaces key's expectations with adds creates and the deletes of
// dels.
func (e *Expectations[K]) Expect(key string, adds int, dels []K) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &pending[K]{adds: adds, dels: map[K]bool{}, at: e.now()}
	for _, d := range dels {
		p.dels[d] = true
	}
	e.m[key] = p
}

// Created notes a create seen by the cache (or one that failed).
func (e *Expectations[K]) Created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		p.adds--
	}
}

// Deleted notes the delete of d seen by the cache (or one that failed).
func (e *Expectations[K]) Deleted(key string, d K) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		delete(p.dels, d)
	}
}

// Satisfied says whether key may be managed: nothing pending, or the
// pending expectations expired (then they are dropped).
func (e *Expectations[K]) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.m[key]
	if !ok || (p.adds <= 0 && len(p.dels) == 0) || e.now().Sub(p.at) > Timeout {
		delete(e.m, key)
		return true
	}
	return false
}

// Forget drops a deleted owner's expectations.
func (e *Expectations[K]) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
