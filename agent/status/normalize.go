package status

import (
	corev1 "k8s.io/api/core/v1"
)

// NormalizeTimes truncates every timestamp of a status to whole seconds,
// the precision the API keeps (RFC 3339). The runtime reports nanoseconds;
// without this a status read back from the API never equals the computed
// one, and each sync would write it again (and wake itself through the
// informer), as kubelet's status manager also guards against.
func NormalizeTimes(s *corev1.PodStatus) {
	if s.StartTime != nil {
		t := s.StartTime.Rfc3339Copy()
		s.StartTime = &t
	}
	for i := range s.Conditions {
		c := &s.Conditions[i]
		c.LastProbeTime, c.LastTransitionTime = c.LastProbeTime.Rfc3339Copy(), c.LastTransitionTime.Rfc3339Copy()
	}
	for _, list := range [][]corev1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses, s.EphemeralContainerStatuses} {
		for i := range list {
			normalizeState(&list[i].State)
			normalizeState(&list[i].LastTerminationState)
		}
	}
}

func normalizeState(st *corev1.ContainerState) {
	if st.Running != nil {
		st.Running.StartedAt = st.Running.StartedAt.Rfc3339Copy()
	}
	if t := st.Terminated; t != nil {
		t.StartedAt, t.FinishedAt = t.StartedAt.Rfc3339Copy(), t.FinishedAt.Rfc3339Copy()
	}
}
