package statefulset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// computeStatus is kube's: counts over the set's pods (ready = Running
// and Ready, available = ready for minReadySeconds; current and updated
// by revision, not counting terminating pods), the revisions, and, once
// a RollingUpdate has every pod updated and ready, the update revision
// as the current one. It also returns how long until a ready pod becomes
// available (0 if none waits).
func computeStatus(s state) (appsv1.StatefulSetStatus, time.Duration) {
	collisions := s.rev.collisions
	st := appsv1.StatefulSetStatus{ObservedGeneration: s.set.Generation, CollisionCount: &collisions,
		CurrentRevision: s.rev.current.Name, UpdateRevision: s.rev.update.Name, Conditions: s.set.Status.Conditions}
	var wait time.Duration
	for _, pod := range s.pods {
		st.Replicas++
		if pod.Status.Phase == corev1.PodRunning && readySince(pod) != nil {
			st.ReadyReplicas++
			if in := availableIn(pod, s.set.Spec.MinReadySeconds, s.now); in == 0 {
				st.AvailableReplicas++
			} else if wait == 0 || in < wait {
				wait = in
			}
		}
		if pod.DeletionTimestamp != nil {
			continue
		}
		switch pod.Labels[appsv1.ControllerRevisionHashLabelKey] {
		case st.CurrentRevision:
			st.CurrentReplicas++
			if st.UpdateRevision == st.CurrentRevision {
				st.UpdatedReplicas++
			}
		case st.UpdateRevision:
			st.UpdatedReplicas++
		}
	}
	if rolling(s.set) &&
		st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentReplicas, st.CurrentRevision = st.UpdatedReplicas, st.UpdateRevision
	}
	return st, wait
}
