package daemonset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// computeStatus is kube's updateDaemonSetStatus: over the nodes that
// should run a pod, how many have one, whose oldest is ready, available
// and of the current revision; and how many others have one
// (misscheduled). It also returns how long until a ready pod becomes
// available (0 if none waits), so the DaemonSet is synced again then.
func computeStatus(s state) (appsv1.DaemonSetStatus, time.Duration) {
	st := appsv1.DaemonSetStatus{ObservedGeneration: s.ds.Generation, CollisionCount: s.ds.Status.CollisionCount,
		Conditions: s.ds.Status.Conditions}
	var wait time.Duration
	for _, node := range s.nodes {
		pods := s.byNode[node.Name]
		if !nodePlacement(node, s.ds).run {
			if len(pods) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		pods = append(pods[:0:0], pods...)
		oldestFirst(pods)
		pod := pods[0]
		if podReady(pod) {
			st.NumberReady++
			if s.available(pod) {
				st.NumberAvailable++
			} else if in := availableIn(pod, s.ds.Spec.MinReadySeconds, s.now); wait == 0 || in < wait {
				wait = in
			}
		}
		if updated(pod, s.hash) {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	return st, wait
}
