package metrics

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// PodStartHandler measures kubelet_pod_start_duration_seconds from the
// agent's pod informer: from when the agent first sees a pod that does not
// run yet to when it sees the pod Running. Pods already running when first
// seen (an agent restart adopting them) are not measured.
func (m *Metrics) PodStartHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { m.podSeen(o) },
		UpdateFunc: func(_, o any) { m.podSeen(o) },
		DeleteFunc: func(o any) { m.podGone(o) },
	}
}

func (m *Metrics) podSeen(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	first, tracked := m.seen[pod.UID]
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		if !tracked {
			m.seen[pod.UID] = now
		}
	case corev1.PodRunning:
		if tracked {
			m.f.podStart.Observe(now.Sub(first).Seconds())
		}
		delete(m.seen, pod.UID)
	default: // Succeeded or Failed before anyone saw it run
		delete(m.seen, pod.UID)
	}
}

func (m *Metrics) podGone(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.seen, pod.UID)
	}
}
