package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/lifecycle"
)

// syncAtDeadline queues the pod's sync for the moment it reaches its
// activeDeadlineSeconds (counted from its status's startTime), as
// kubelet's active deadline handler makes the pod worker sync it then.
func (a *Agent) syncAtDeadline(pod *corev1.Pod) {
	old := a.statusManager.OldStatus(pod)
	if old.Phase == corev1.PodSucceeded || old.Phase == corev1.PodFailed {
		return
	}
	if left, ok := lifecycle.DeadlineLeft(pod, old.StartTime, a.clock.Now()); ok && left > 0 {
		a.queue.AddAfter(podWorkKey(pod), left)
	}
}

// failedForDeadline says whether the pod's new status is to be Failed
// with reason DeadlineExceeded: it was failed so already, or it ran past
// its deadline before it finished. old is the pod with the status it was
// last given, s its new status.
func failedForDeadline(old *corev1.Pod, s *corev1.PodStatus, now time.Time) bool {
	if old.Status.Phase == corev1.PodFailed && old.Status.Reason == lifecycle.ReasonDeadlineExceeded {
		return true
	}
	if old.Status.Phase == corev1.PodSucceeded || old.Status.Phase == corev1.PodFailed {
		return false
	}
	return lifecycle.PastActiveDeadline(old, s.StartTime, now)
}
