package lifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The status and event of a pod past its activeDeadlineSeconds, as
// kubelet's.
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	MessageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// DeadlineLeft is how long the pod may still run under its
// activeDeadlineSeconds, counted from its status's startTime; zero or less
// once it is past it. ok is false when the pod has no deadline or has not
// started.
func DeadlineLeft(pod *corev1.Pod, startTime *metav1.Time, now time.Time) (left time.Duration, ok bool) {
	if pod.Spec.ActiveDeadlineSeconds == nil || startTime == nil || startTime.IsZero() {
		return 0, false
	}
	allowed := time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second
	return allowed - now.Sub(startTime.Time), true
}

// PastActiveDeadline says whether the pod has run for its whole
// activeDeadlineSeconds: the agent then kills it and fails it
// (FailForDeadline), with a Normal DeadlineExceeded event.
func PastActiveDeadline(pod *corev1.Pod, startTime *metav1.Time, now time.Time) bool {
	left, ok := DeadlineLeft(pod, startTime, now)
	return ok && left <= 0
}

// FailForDeadline sets the status of a pod past its deadline: phase
// Failed, reason DeadlineExceeded, kubelet's message.
func FailForDeadline(s *corev1.PodStatus) {
	s.Phase = corev1.PodFailed
	s.Reason = ReasonDeadlineExceeded
	s.Message = MessageDeadlineExceeded
}
