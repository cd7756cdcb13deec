package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nodeagent/nodeagent/cri"
)

// RuntimeLister lists what runs on the node (cri.Runtime does).
type RuntimeLister interface {
	ListPodSandboxes(ctx context.Context, filter map[string]string) ([]cri.Sandbox, error)
	ListContainers(ctx context.Context, filter map[string]string) ([]cri.Container, error)
}

// listTimeout bounds the runtime calls of one scrape.
const listTimeout = 5 * time.Second

// containerStates are kubelet's container_state values, for every state
// the runtime reports.
var containerStates = map[cri.ContainerState]string{
	cri.ContainerCreated: "created", cri.ContainerRunning: "running",
	cri.ContainerExited: "exited", cri.ContainerUnknown: "unknown",
}

// runtimeCollector counts, when scraped, the pods with a ready sandbox
// (kubelet_running_pods) and the containers by state
// (kubelet_running_containers).
type runtimeCollector struct {
	rt         RuntimeLister
	log        *slog.Logger
	pods       *prometheus.Desc
	containers *prometheus.Desc
}

func newRuntimeCollector(rt RuntimeLister, log *slog.Logger) *runtimeCollector {
	return &runtimeCollector{rt: rt, log: log,
		pods:       prometheus.NewDesc("kubelet_running_pods", "Number of pods that have a running pod sandbox", nil, nil),
		containers: prometheus.NewDesc("kubelet_running_containers", "Number of containers currently running", []string{"container_state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pods
	ch <- c.containers
}

// Collect implements prometheus.Collector. When the runtime cannot be
// asked, the two are left out of this scrape (and the failure logged).
func (c *runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	pods, byState, err := c.count(ctx)
	if err != nil {
		c.log.Warn("running pods and containers not counted", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pods, prometheus.GaugeValue, float64(pods))
	for _, state := range containerStates {
		ch <- prometheus.MustNewConstMetric(c.containers, prometheus.GaugeValue, float64(byState[state]), state)
	}
}

// count returns the pods with a ready sandbox and the containers by state.
func (c *runtimeCollector) count(ctx context.Context) (int, map[string]int, error) {
	sbs, err := c.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	cs, err := c.rt.ListContainers(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	pods := map[string]bool{}
	for _, sb := range sbs {
		if sb.State == cri.SandboxReady {
			pods[sb.Labels[cri.LabelPodUID]] = true
		}
	}
	byState := map[string]int{}
	for _, ct := range cs {
		state, ok := containerStates[ct.State]
		if !ok {
			state = containerStates[cri.ContainerUnknown]
		}
		byState[state]++
	}
	return len(pods), byState, nil
}
