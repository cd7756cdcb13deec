package scheduler

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// assumeCache remembers the pods this scheduler has bound but the informer
// does not show bound yet, so that the next decision counts them on their
// node. An entry goes away once the informer shows the pod bound (or gone,
// or replaced by a pod of the same name), or after ttl at the latest.
type assumeCache struct {
	mu    sync.Mutex
	clock clock.PassiveClock
	ttl   time.Duration
	pods  map[string]assumedPod // by namespace/name
}

type assumedPod struct {
	pod      *corev1.Pod // a copy with spec.nodeName set
	deadline time.Time
}

func newAssumeCache(clk clock.PassiveClock, ttl time.Duration) *assumeCache {
	return &assumeCache{clock: clk, ttl: ttl, pods: map[string]assumedPod{}}
}

// assume records that pod is (being) bound to node.
func (a *assumeCache) assume(key string, pod *corev1.Pod, node string) {
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pods[key] = assumedPod{pod: p, deadline: a.clock.Now().Add(a.ttl)}
}

// has says whether this very pod (same UID) is assumed bound, and the
// record is still fresh.
func (a *assumeCache) has(key string, pod *corev1.Pod) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, ok := a.pods[key]
	return ok && ap.pod.UID == pod.UID && a.clock.Now().Before(ap.deadline)
}

// forget drops the record, when the binding failed.
func (a *assumeCache) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pods, key)
}

// pending returns the assumed pods the informer has not caught up with;
// current looks a pod up in the informer's cache.
func (a *assumeCache) pending(current func(key string) (*corev1.Pod, bool)) []*corev1.Pod {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.clock.Now()
	var out []*corev1.Pod
	for key, ap := range a.pods {
		if cur, ok := current(key); !stillAssumed(ap, cur, ok, now) {
			delete(a.pods, key)
			continue
		}
		out = append(out, ap.pod)
	}
	return out
}

// stillAssumed: the record still stands while it is fresh and the cache
// shows the same pod, not yet bound.
func stillAssumed(ap assumedPod, cur *corev1.Pod, found bool, now time.Time) bool {
	if !now.Before(ap.deadline) || !found {
		return false
	}
	return cur.UID == ap.pod.UID && cur.Spec.NodeName == ""
}
