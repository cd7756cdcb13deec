package stats

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"
)

// resourceTimeout bounds one scrape of /metrics/resource.
const resourceTimeout = 10 * time.Second

// ResourceMetrics is kubelet's /metrics/resource, what metrics-server (and
// so kubectl top) reads: the node's, the pods' and the containers' CPU time
// and working set, with the time each was sampled.
type ResourceMetrics struct {
	c                                          *Collector
	nodeCPU, nodeMem, podCPU, podMem           *prometheus.Desc
	containerCPU, containerMem, containerStart *prometheus.Desc
	scrapeError                                *prometheus.Desc
}

var _ prometheus.Collector = (*ResourceMetrics)(nil)

// NewResourceMetrics is the collector of /metrics/resource over c.
func NewResourceMetrics(c *Collector) *ResourceMetrics {
	ctr, pod := []string{"container", "pod", "namespace"}, []string{"pod", "namespace"}
	return &ResourceMetrics{c: c,
		nodeCPU:        prometheus.NewDesc("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", nil, nil),
		nodeMem:        prometheus.NewDesc("node_memory_working_set_bytes", "Current working set of the node in bytes", nil, nil),
		podCPU:         prometheus.NewDesc("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", pod, nil),
		podMem:         prometheus.NewDesc("pod_memory_working_set_bytes", "Current working set of the pod in bytes", pod, nil),
		containerCPU:   prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds", ctr, nil),
		containerMem:   prometheus.NewDesc("container_memory_working_set_bytes", "Current working set of the container in bytes", ctr, nil),
		containerStart: prometheus.NewDesc("container_start_time_seconds", "Start time of the container since unix epoch in seconds", ctr, nil),
		scrapeError:    prometheus.NewDesc("resource_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (r *ResourceMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.nodeCPU, r.nodeMem, r.podCPU, r.podMem, r.containerCPU, r.containerMem, r.containerStart, r.scrapeError} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: a summary, as metrics.
func (r *ResourceMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), resourceTimeout)
	defer cancel()
	s, err := r.c.Summary(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(r.scrapeError, prometheus.GaugeValue, failed)
	if err != nil {
		return
	}
	r.cpu(ch, r.nodeCPU, s.Node.CPU)
	r.memory(ch, r.nodeMem, s.Node.Memory)
	for _, p := range s.Pods {
		r.cpu(ch, r.podCPU, p.CPU, p.PodRef.Name, p.PodRef.Namespace)
		r.memory(ch, r.podMem, p.Memory, p.PodRef.Name, p.PodRef.Namespace)
		for _, ct := range p.Containers {
			labels := []string{ct.Name, p.PodRef.Name, p.PodRef.Namespace}
			ch <- prometheus.MustNewConstMetric(r.containerStart, prometheus.GaugeValue, float64(ct.StartTime.Unix()), labels...)
			r.cpu(ch, r.containerCPU, ct.CPU, labels...)
			r.memory(ch, r.containerMem, ct.Memory, labels...)
		}
	}
}

// cpu sends the CPU time in core-seconds, stamped with its sample's time.
func (r *ResourceMetrics) cpu(ch chan<- prometheus.Metric, d *prometheus.Desc, s *statsapi.CPUStats, labels ...string) {
	if s == nil || s.UsageCoreNanoSeconds == nil {
		return
	}
	m := prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(*s.UsageCoreNanoSeconds)/1e9, labels...)
	ch <- prometheus.NewMetricWithTimestamp(s.Time.Time, m)
}

// memory sends the working set, stamped with its sample's time.
func (r *ResourceMetrics) memory(ch chan<- prometheus.Metric, d *prometheus.Desc, s *statsapi.MemoryStats, labels ...string) {
	if s == nil || s.WorkingSetBytes == nil {
		return
	}
	m := prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(*s.WorkingSetBytes), labels...)
	ch <- prometheus.NewMetricWithTimestamp(s.Time.Time, m)
}
