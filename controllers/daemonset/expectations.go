package daemonset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationTimeout is how long pending creates and deletes hold a
// DaemonSet's manage step back before they are forgotten (kube's 5m).
const expectationTimeout = 5 * time.Minute

// expectations note, per DaemonSet key, the pod creates and deletes this
// controller made that its pod cache has not shown yet. Until they are
// seen, the DaemonSet is not managed again, so that a lagging cache never
// makes it create a second pod for a node or delete one twice (kube's
// UIDTrackingControllerExpectations). A delete is seen when the pod is
// gone or has a deletionTimestamp, and counted once per pod UID.
type expectations struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*pending
}

type pending struct {
	adds int
	dels map[types.UID]bool
	at   time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, m: map[string]*pending{}}
}

// expect replaces key's expectations with adds creates and the deletes
// of uids.
func (e *expectations) expect(key string, adds int, uids []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &pending{adds: adds, dels: map[types.UID]bool{}, at: e.now()}
	for _, u := range uids {
		p.dels[u] = true
	}
	e.m[key] = p
}

// created notes a create seen by the cache (or one that failed).
func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		p.adds--
	}
}

// deleted notes a delete seen by the cache (or one that failed).
func (e *expectations) deleted(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.m[key]; ok {
		delete(p.dels, uid)
	}
}

func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.m[key]
	if !ok || (p.adds <= 0 && len(p.dels) == 0) || e.now().Sub(p.at) > expectationTimeout {
		delete(e.m, key)
		return true
	}
	return false
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
