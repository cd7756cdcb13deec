package metrics

import "github.com/prometheus/client_golang/prometheus"

// podStartBuckets are kubelet's for pod start durations, in seconds.
var podStartBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}

// families are the metric families, with kubelet's names, help texts,
// labels and buckets.
type families struct {
	nodeName                       *prometheus.GaugeVec
	podWorker                      *prometheus.HistogramVec
	podStart                       prometheus.Histogram
	plegDuration, plegInterval     prometheus.Histogram
	plegLastSeen                   prometheus.Gauge
	startedPods, startedPodsErrors prometheus.Counter
	startedContainers              *prometheus.CounterVec
	startedContainersErrors        *prometheus.CounterVec
	probeTotal                     *prometheus.CounterVec
	probeDuration                  *prometheus.HistogramVec
}

func newFamilies() families {
	return families{
		nodeName: prometheus.NewGaugeVec(prometheus.GaugeOpts{Subsystem: "kubelet", Name: "node_name",
			Help: "The node's name. The count is always 1."}, []string{"node"}),
		podWorker: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pod_worker_duration_seconds",
			Help:    "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
			Buckets: prometheus.DefBuckets}, []string{"operation_type"}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pod_start_duration_seconds",
			Help:    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
			Buckets: podStartBuckets}),
		plegDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pleg_relist_duration_seconds",
			Help: "Duration in seconds for relisting pods in PLEG.", Buckets: prometheus.DefBuckets}),
		plegInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pleg_relist_interval_seconds",
			Help: "Interval in seconds between relisting in PLEG.", Buckets: prometheus.DefBuckets}),
		plegLastSeen: prometheus.NewGauge(prometheus.GaugeOpts{Subsystem: "kubelet", Name: "pleg_last_seen_seconds",
			Help: "Timestamp in seconds when PLEG was last seen active."}),
		startedPods: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_pods_total",
			Help: "Cumulative number of pods started"}),
		startedPodsErrors: prometheus.NewCounter(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_pods_errors_total",
			Help: "Cumulative number of errors when starting pods"}),
		startedContainers: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_containers_total",
			Help: "Cumulative number of containers started"}, []string{"container_type"}),
		startedContainersErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "started_containers_errors_total",
			Help: "Cumulative number of errors when starting containers"}, []string{"container_type", "code"}),
		probeTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "prober", Name: "probe_total",
			Help: "Cumulative number of a liveness, readiness or startup probe for a container by result."},
			[]string{"probe_type", "result", "container", "pod", "namespace", "pod_uid"}),
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "prober", Name: "probe_duration_seconds",
			Help: "Duration in seconds for a probe response.", Buckets: prometheus.DefBuckets},
			[]string{"probe_type", "container", "pod", "namespace"}),
	}
}

// kubelet lists what /metrics serves.
func (f families) kubelet() []prometheus.Collector {
	return []prometheus.Collector{f.nodeName, f.podWorker, f.podStart, f.plegDuration, f.plegInterval, f.plegLastSeen,
		f.startedPods, f.startedPodsErrors, f.startedContainers, f.startedContainersErrors}
}

// prober lists what /metrics/probes serves.
func (f families) prober() []prometheus.Collector {
	return []prometheus.Collector{f.probeTotal, f.probeDuration}
}
