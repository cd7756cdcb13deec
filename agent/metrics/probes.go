package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

// ProbeType is a probe's kind as kubelet's metrics name it.
type ProbeType string

const (
	ProbeLiveness  ProbeType = "Liveness"
	ProbeReadiness ProbeType = "Readiness"
	ProbeStartup   ProbeType = "Startup"
)

// ProbeResult is a probe's outcome as kubelet's metrics name it.
type ProbeResult string

const (
	ProbeSuccessful ProbeResult = "successful"
	ProbeFailed     ProbeResult = "failed"
	ProbeUnknown    ProbeResult = "unknown"
)

var probeResults = []ProbeResult{ProbeSuccessful, ProbeFailed, ProbeUnknown}

// ProbeTarget is one probe of one container: the labels of its series.
type ProbeTarget struct {
	Type      ProbeType
	Namespace string
	Pod       string
	PodUID    types.UID
	Container string
}

func (t ProbeTarget) totalLabels(r ProbeResult) prometheus.Labels {
	return prometheus.Labels{"probe_type": string(t.Type), "result": string(r), "container": t.Container,
		"pod": t.Pod, "namespace": t.Namespace, "pod_uid": string(t.PodUID)}
}

func (t ProbeTarget) durationLabels() prometheus.Labels {
	return prometheus.Labels{"probe_type": string(t.Type), "container": t.Container, "pod": t.Pod, "namespace": t.Namespace}
}

// ObserveProbe counts one probe's result (prober_probe_total) and, as
// kubelet does, records how long it took (prober_probe_duration_seconds)
// unless it failed.
func (m *Metrics) ObserveProbe(t ProbeTarget, r ProbeResult, took time.Duration) {
	m.f.probeTotal.With(t.totalLabels(r)).Inc()
	if r != ProbeFailed {
		m.f.probeDuration.With(t.durationLabels()).Observe(took.Seconds())
	}
}

// ForgetProbe removes the series of a probe that no longer runs (its pod
// or container is gone), as kubelet's probe workers do when they stop.
func (m *Metrics) ForgetProbe(t ProbeTarget) {
	for _, r := range probeResults {
		m.f.probeTotal.Delete(t.totalLabels(r))
	}
	m.f.probeDuration.Delete(t.durationLabels())
}
