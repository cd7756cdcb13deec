package endpoints

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// triggerTimes computes last-change-trigger-time as kube's tracker does:
// the earliest trigger time, among the service and its pods, that changed
// since the service's last sync. A pod's trigger time is its Ready
// condition's last transition, the service's its creation.
type triggerTimes struct {
	mu   sync.Mutex
	seen map[string]observed // service key
}

type observed struct {
	service time.Time
	pods    map[string]time.Time // pod name
}

func newTriggerTimes() *triggerTimes {
	return &triggerTimes{seen: map[string]observed{}}
}

// next returns the service's trigger time and remembers what it saw.
func (t *triggerTimes) next(key string, svc *corev1.Service, pods []*corev1.Pod) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, known := t.seen[key]
	now := observed{service: svc.CreationTimestamp.Time, pods: map[string]time.Time{}}
	var earliest time.Time
	consider := func(at time.Time) {
		if !at.IsZero() && (earliest.IsZero() || at.Before(earliest)) {
			earliest = at
		}
	}
	if !known || !old.service.Equal(now.service) {
		consider(now.service)
	}
	for _, pod := range pods {
		at := podTriggerTime(pod)
		now.pods[pod.Name] = at
		if prev, ok := old.pods[pod.Name]; !ok || !prev.Equal(at) {
			consider(at)
		}
	}
	t.seen[key] = now
	return earliest
}

func (t *triggerTimes) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, key)
}

func podTriggerTime(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}
