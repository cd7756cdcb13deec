package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	agentmetrics "github.com/nodeagent/nodeagent/agent/metrics"
	"github.com/nodeagent/nodeagent/agent/stats"
)

// procRoot is where /proc is mounted.
const procRoot = "/proc"

// newStats is the node's stats collector: the cgroups under cgroupRoot (v1,
// or v2 where that is mounted there), the pods' network namespaces, statfs
// of the root and log directories.
func (a *Agent) newStats() *stats.Collector {
	cfg := stats.Config{NodeName: a.cfg.NodeName, RootDir: a.cfg.RootDir, LogDir: a.cfg.PodLogDir, PodCgroup: a.podCgroup,
		PodsCgroup: a.cm.Layout().Kubepods(), ImageFsDir: a.cfg.Resources.ImageFsDir}
	deps := stats.Deps{Cgroups: stats.DetectCgroups(a.cfg.Resources.CgroupMount), Network: stats.ProcNetDev{},
		Host: stats.Proc{Root: procRoot}, Volumes: localVolumeStats{a}}
	return stats.New(cfg, a.rt, deps, clock.RealClock{})
}

// observeRoutes serves, on the agent's API (so authenticated, and
// authorized as nodes/metrics or nodes/stats), what kubelet serves there:
// /metrics, /metrics/probes, /metrics/resource and /stats/summary.
func (a *Agent) observeRoutes(mux *http.ServeMux) {
	kubelet, probes := a.metrics.Gatherers()
	resource := prometheus.NewRegistry()
	resource.MustRegister(stats.NewResourceMetrics(a.stats))
	mux.Handle("GET /metrics", metricsHandler(kubelet))
	mux.Handle("GET /metrics/probes", metricsHandler(probes))
	mux.Handle("GET /metrics/resource", metricsHandler(resource))
	mux.HandleFunc("GET /stats/summary", a.serveSummary)
}

func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// serveSummary is kubelet's /stats/summary; only_cpu_and_memory=true
// leaves out the network and filesystems, as kubelet does.
func (a *Agent) serveSummary(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	s, err := a.stats.Summary(ctx)
	if err != nil {
		a.log.Warn("stats summary", "err", err)
		http.Error(w, "Internal Error: failed to get node stats: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Get("only_cpu_and_memory") == "true" {
		stats.OnlyCPUAndMemory(s)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s)
}

// observeWork records how long a pod worker's sync took.
func (a *Agent) observeWork(key workKey, start time.Time) {
	op := agentmetrics.OperationSync
	if key.kind == orphanWork {
		op = agentmetrics.OperationKill
	}
	a.metrics.ObservePodWorker(op, a.clock.Since(start))
}

// observeContainerStart counts a container start as kubelet does: by
// container type and, when it failed, by the code kubelet would give (the
// container's waiting reason).
func (a *Agent) observeContainerStart(pod *corev1.Pod, name string, err error) {
	code := ""
	if err != nil {
		code = a.podSync.waitingReasons(pod.UID)[name].reason
	}
	a.metrics.ObserveContainerStart(containerType(pod, name), err != nil, code)
}

func containerType(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return agentmetrics.ContainerTypeInit
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return agentmetrics.ContainerTypeEphemeral
		}
	}
	return agentmetrics.ContainerTypeContainer
}
