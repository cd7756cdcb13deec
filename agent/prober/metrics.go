package prober

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Metrics receives what kubelet's prober metrics count: every probe that
// ran (prober_probe_total, prober_probe_duration_seconds), and the end of
// a worker, whose series then go.
type Metrics interface {
	// ObserveProbe: the kind probe of the pod's container ran and said res
	// (Success or Failure) after took. A probe that could not run at all
	// is not counted, as kubelet's.
	ObserveProbe(pod *corev1.Pod, container string, kind Kind, res Result, took time.Duration)
	// ForgetProbe: the worker of that probe ended (its pod or container is
	// gone, or the pod is shutting down).
	ForgetProbe(pod *corev1.Pod, container string, kind Kind)
}

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) ObserveProbe(*corev1.Pod, string, Kind, Result, time.Duration) {}
func (noMetrics) ForgetProbe(*corev1.Pod, string, Kind)                         {}
