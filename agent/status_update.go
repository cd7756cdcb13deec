package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
	"github.com/nodeagent/nodeagent/agent/status"
)

// newStatusManager wires the status manager: static pods' status goes to
// their mirror pods, and a write that must be retried queues the pod.
func (a *Agent) newStatusManager() *status.Manager {
	var pods typedcorev1.PodsGetter
	if a.client != nil {
		pods = a.client.CoreV1()
	}
	return status.New(status.Config{Pods: pods, Clock: a.clock, Target: a.statusTarget, Probing: true,
		Resync: func(pod *corev1.Pod) { a.queue.Add(podWorkKey(pod)) }}, a.log.With("component", "status"))
}

// updateStatus computes the pod's status from the runtime's state, on the
// base of the status last set, and hands it to the status manager.
func (a *Agent) updateStatus(ctx context.Context, pod *corev1.Pod, st podState) error {
	old, now := a.withOldStatus(pod), a.clock.Now()
	s := computePodStatus(old, st, a.podSync.waitingReasons(pod.UID), a.nodeIP, now)
	if failedForDeadline(old, &s, now) {
		lifecycle.FailForDeadline(&s)
	}
	if t := a.terminations.get(pod.UID); t != nil {
		t.status(&s) // graceful node shutdown (shutdown.go)
	}
	keepEvicted(old, &s)
	a.addTerminationMessages(pod, st, &s)
	return a.statusManager.SetPodStatus(ctx, pod, s)
}

// withOldStatus is the pod with the status manager's base status: what
// the agent computes from (shallow: not to be modified).
func (a *Agent) withOldStatus(pod *corev1.Pod) *corev1.Pod {
	p := *pod
	p.Status = a.statusManager.OldStatus(pod)
	return &p
}

// statusTarget is where a pod's status is written: an API pod's own, a
// static pod's mirror pod (none while it has no mirror of its own).
func (a *Agent) statusTarget(pod *corev1.Pod) (*corev1.Pod, bool) {
	if !isStatic(pod) {
		return pod, true
	}
	m, ok := a.cachedPod(podKey(pod))
	if !ok || !isMirror(m) || m.Annotations[annotationConfigMirror] != string(pod.UID) {
		return nil, false
	}
	return m, true
}
