package prober

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Event reasons, as kubelet's.
const (
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// ContainerRef refers to a container of a pod as kubelet's events do: the
// pod, with the field path of the container in its spec.
func ContainerRef(pod *corev1.Pod, c *corev1.Container) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion, FieldPath: fieldPath(pod, c.Name)}
}

func fieldPath(pod *corev1.Pod, name string) string {
	for _, ic := range pod.Spec.InitContainers {
		if ic.Name == name {
			return fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	return fmt.Sprintf("spec.containers{%s}", name)
}

// recordWarning records a Warning event on the container, if there is a
// recorder.
func recordWarning(rec Recorder, t target, reason, format string, args ...any) {
	if rec != nil {
		rec.Eventf(ContainerRef(t.pod, t.container), corev1.EventTypeWarning, reason, format, args...)
	}
}
