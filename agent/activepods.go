package agent

import (
	corev1 "k8s.io/api/core/v1"
)

// activePods are the pods the agent runs or is to run, as kubelet's
// GetActivePods: the static pods and the API's (mirror pods aside) that
// are neither finished (as the status manager last set them) nor
// deleted with nothing left running. Each is the pod with that status.
func (a *Agent) activePods() []*corev1.Pod {
	var out []*corev1.Pod
	a.staticMu.Lock()
	for _, p := range a.static {
		out = append(out, p)
	}
	a.staticMu.Unlock()
	if a.pods != nil { // Cleanup's agent has no API
		for _, obj := range a.pods.GetIndexer().List() {
			p := obj.(*corev1.Pod)
			if !isMirror(p) {
				out = append(out, p)
			}
		}
	}
	active := out[:0]
	for _, p := range out {
		withStatus := a.withOldStatus(p)
		if !isFinished(withStatus.Status) {
			active = append(active, withStatus)
		}
	}
	return active
}

func isFinished(s corev1.PodStatus) bool {
	return s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed
}
