package status

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition returns the pod condition of type t, true when ok, keeping
// the transition time of the condition of that type in old when its
// status does not change.
func Condition(old []corev1.PodCondition, t corev1.PodConditionType, ok bool, reason, msg string, now time.Time) corev1.PodCondition {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	c := corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now)}
	for _, o := range old {
		if o.Type == t && o.Status == status {
			c.LastTransitionTime = o.LastTransitionTime
		}
	}
	return c
}

// SetCondition puts c into s.Conditions in place of the condition of its
// type, or last.
func SetCondition(s *corev1.PodStatus, c corev1.PodCondition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

// SetReadyConditions sets ContainersReady and Ready from the containers'
// ready flags, as kubelet generates them: every app container and every
// sidecar (restartable init container) must be ready; a pod that
// Succeeded is not ready, with reason PodCompleted. Transition times are
// kept from old.
func SetReadyConditions(pod *corev1.Pod, s *corev1.PodStatus, old []corev1.PodCondition, now time.Time) {
	ready, reason, msg := readiness(pod, s)
	SetCondition(s, Condition(old, corev1.ContainersReady, ready, reason, msg, now))
	SetCondition(s, Condition(old, corev1.PodReady, ready, reason, msg, now))
}

// readiness says whether the pod's containers are all ready, and if not
// kubelet's reason and message.
func readiness(pod *corev1.Pod, s *corev1.PodStatus) (bool, string, string) {
	if s.Phase == corev1.PodSucceeded {
		return false, "PodCompleted", ""
	}
	var notReady []string
	for _, ic := range pod.Spec.InitContainers {
		if isSidecar(ic) && !isReady(s.InitContainerStatuses, ic.Name) {
			notReady = append(notReady, ic.Name)
		}
	}
	for _, c := range pod.Spec.Containers {
		if !isReady(s.ContainerStatuses, c.Name) {
			notReady = append(notReady, c.Name)
		}
	}
	if len(notReady) > 0 || len(pod.Spec.Containers) == 0 {
		return false, "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	}
	return true, "", ""
}

func isReady(statuses []corev1.ContainerStatus, name string) bool {
	for _, cs := range statuses {
		if cs.Name == name {
			return cs.Ready
		}
	}
	return false
}

func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
