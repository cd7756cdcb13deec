package replicaset

import (
	"sync"
	"time"
)

// expectationsTTL: expectations older than this are given up on (kube's
// ExpectationsTimeout), so a lost watch event delays a sync, never stops it.
const expectationsTTL = 5 * time.Minute

// expectations remembers, per ReplicaSet key, the pod creations and
// deletions this controller issued and has not yet seen in its informer,
// so a lagging cache does not make it create or delete twice. Deletions
// are tracked by pod key so that a pod seen deleted twice counts once.
type expectations struct {
	mu    sync.Mutex
	now   func() time.Time
	byKey map[string]*expected
}

type expected struct {
	adds    int
	deletes map[string]bool
	at      time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, byKey: map[string]*expected{}}
}

// satisfied says whether the ReplicaSet may be managed: nothing pending,
// or the pending expectations expired.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.byKey[key]
	if !ok {
		return true
	}
	return (x.adds <= 0 && len(x.deletes) == 0) || e.now().Sub(x.at) > expectationsTTL
}

// expect records n creations and the deletion of podKeys about to be issued.
func (e *expectations) expect(key string, adds int, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expected{adds: adds, deletes: map[string]bool{}, at: e.now()}
	for _, k := range podKeys {
		x.deletes[k] = true
	}
	e.byKey[key] = x
}

// created records one creation seen (or one that failed or was skipped).
func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.byKey[key]; ok {
		x.adds--
	}
}

// deleted records the deletion of podKey seen (or one that failed).
func (e *expectations) deleted(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.byKey[key]; ok {
		delete(x.deletes, podKey)
	}
}

// forget drops a deleted ReplicaSet's expectations.
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byKey, key)
}
