package lifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// MinGracePeriod is the least time a container gets between its stop
// signal and SIGKILL, whatever its hooks and turn took (kubelet's
// minimumGracePeriodInSeconds).
const MinGracePeriod = 2 * time.Second

// KillReason says why a container is stopped: a failed liveness or startup
// probe lets the probe's own terminationGracePeriodSeconds apply.
type KillReason uint8

const (
	KillOther KillReason = iota
	KillLivenessProbe
	KillStartupProbe
)

// GracePeriod is the time a container gets to stop, as kubelet's
// setTerminationGracePeriod: the deletion's grace period when the pod is
// being deleted; else, for a failed liveness or startup probe, that
// probe's terminationGracePeriodSeconds if set; else the pod's (30 s when
// unset).
func GracePeriod(pod *corev1.Pod, spec *corev1.Container, reason KillReason) time.Duration {
	if g := pod.DeletionGracePeriodSeconds; g != nil {
		return secs(*g)
	}
	if p := killingProbe(spec, reason); p != nil && p.TerminationGracePeriodSeconds != nil {
		return secs(*p.TerminationGracePeriodSeconds)
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return secs(*g)
	}
	return secs(corev1.DefaultTerminationGracePeriodSeconds)
}

func killingProbe(spec *corev1.Container, reason KillReason) *corev1.Probe {
	switch {
	case spec == nil:
		return nil
	case reason == KillLivenessProbe:
		return spec.LivenessProbe
	case reason == KillStartupProbe:
		return spec.StartupProbe
	}
	return nil
}

// StopTimeout is what is left of grace for the stop signal once the
// preStop hook and the wait for the container's turn took used; at least
// MinGracePeriod.
func StopTimeout(grace, used time.Duration) time.Duration {
	return max(grace-used, MinGracePeriod)
}

func secs(n int64) time.Duration {
	return time.Duration(max(n, 0)) * time.Second
}
