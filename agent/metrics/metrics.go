// Package metrics holds the agent's Prometheus metrics under kubelet's
// names, in registries the caller owns (no global registry): the agent's
// /metrics (kubelet_*), and /metrics/probes (prober_*), which kubelet
// serves apart. The agent, its PLEG and its prober report through the
// methods of Metrics; the running pods and containers are counted from the
// runtime when scraped.
package metrics

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Operation types of kubelet_pod_worker_duration_seconds (kubelet's
// SyncPodType names).
const (
	OperationSync = "sync"
	OperationKill = "kill"
)

// Container types of kubelet_started_containers_total.
const (
	ContainerTypeContainer     = "container"
	ContainerTypeInit          = "init_container"
	ContainerTypeEphemeral     = "ephemeral_container"
	defaultStartContainerError = "RunContainerError"
)

// Registries are where the metrics go: Metrics is the agent's /metrics,
// Probes its /metrics/probes.
type Registries struct {
	Metrics, Probes *prometheus.Registry
}

// Metrics are the agent's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	clock clock.PassiveClock
	regs  Registries
	f     families

	mu         sync.Mutex
	lastRelist time.Time
	// seen is when each pod that is not running yet was first seen.
	seen map[types.UID]time.Time
}

// New registers the agent's metrics: kubelet's in regs.Metrics (with the
// running pods and containers counted from rt when scraped, and
// kubelet_node_name for node), the prober's in regs.Probes.
func New(regs Registries, node string, rt RuntimeLister, clk clock.PassiveClock, log *slog.Logger) (*Metrics, error) {
	m := &Metrics{clock: clk, regs: regs, f: newFamilies(), seen: map[types.UID]time.Time{}}
	m.f.nodeName.WithLabelValues(node).Set(1)
	for _, c := range append(m.f.kubelet(), newRuntimeCollector(rt, log)) {
		if err := regs.Metrics.Register(c); err != nil {
			return nil, err
		}
	}
	for _, c := range m.f.prober() {
		if err := regs.Probes.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Gatherers are what /metrics and /metrics/probes serve.
func (m *Metrics) Gatherers() (metrics, probes prometheus.Gatherer) {
	return m.regs.Metrics, m.regs.Probes
}

// WorkerDurations is kubelet_pod_worker_duration_seconds, for tests that
// wait on it.
func (m *Metrics) WorkerDurations() prometheus.Collector { return m.f.podWorker }

// ObservePodWorker records one sync of a pod worker (kubelet's
// kubelet_pod_worker_duration_seconds; operation is OperationSync or
// OperationKill).
func (m *Metrics) ObservePodWorker(operation string, took time.Duration) {
	m.f.podWorker.WithLabelValues(operation).Observe(took.Seconds())
}

// ObserveRelist records one PLEG relist that started at start and took
// took: its duration, the interval since the previous one's start, and
// when the PLEG was last seen active.
func (m *Metrics) ObserveRelist(start time.Time, took time.Duration) {
	m.mu.Lock()
	prev := m.lastRelist
	m.lastRelist = start
	m.mu.Unlock()
	if !prev.IsZero() {
		m.f.plegInterval.Observe(start.Sub(prev).Seconds())
	}
	m.f.plegDuration.Observe(took.Seconds())
	m.f.plegLastSeen.Set(float64(start.Unix()))
}

// ObserveSandboxStart counts a pod sandbox start, and its failure when err
// is not nil (kubelet_started_pods_total, _errors_total).
func (m *Metrics) ObserveSandboxStart(err error) {
	m.f.startedPods.Inc()
	if err != nil {
		m.f.startedPodsErrors.Inc()
	}
}

// ObserveContainerStart counts a container start of containerType (one
// of the ContainerType constants); code is "" when it started, else
// kubelet's error code (the container's waiting reason, e.g.
// CreateContainerConfigError, ErrImagePull; "" falls back to
// RunContainerError when failed is true).
func (m *Metrics) ObserveContainerStart(containerType string, failed bool, code string) {
	m.f.startedContainers.WithLabelValues(containerType).Inc()
	if !failed {
		return
	}
	if code == "" {
		code = defaultStartContainerError
	}
	m.f.startedContainersErrors.WithLabelValues(containerType, code).Inc()
}
