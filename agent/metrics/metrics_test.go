package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
	"github.com/nodeagent/nodeagent/cri/fake"
)

type harness struct {
	m             *Metrics
	clock         *clocktesting.FakeClock
	rt            *fake.Fake
	kubelet, prob *prometheus.Registry
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{clock: clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0)), rt: fake.New(),
		kubelet: prometheus.NewRegistry(), prob: prometheus.NewRegistry()}
	m, err := New(Registries{Metrics: h.kubelet, Probes: h.prob}, "node-a", h.rt, h.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	return h
}

// expect checks the exposition of g against want, for the named families.
func expect(t *testing.T, g prometheus.Gatherer, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestNodeNameAndPodWorker(t *testing.T) {
	h := newHarness(t)
	h.m.ObservePodWorker(OperationSync, 30*time.Millisecond)
	h.m.ObservePodWorker(OperationSync, 2*time.Second)
	h.m.ObservePodWorker(OperationKill, time.Second)
	expect(t, h.kubelet, `
# HELP kubelet_node_name The node's name. The count is always 1.
# TYPE kubelet_node_name gauge
kubelet_node_name{node="node-a"} 1
`, "kubelet_node_name")
	if n := testutil.CollectAndCount(h.m.f.podWorker); n != 2 {
		t.Errorf("%d operation types, want sync and kill", n)
	}
	out := format(t, h.m.f.podWorker)
	for _, want := range []string{`kubelet_pod_worker_duration_seconds_count{operation_type="sync"} 2`,
		`kubelet_pod_worker_duration_seconds_bucket{operation_type="sync",le="0.05"} 1`,
		`kubelet_pod_worker_duration_seconds_sum{operation_type="kill"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

func TestPLEGRelists(t *testing.T) {
	h := newHarness(t)
	t0 := h.clock.Now()
	h.m.ObserveRelist(t0, 20*time.Millisecond)
	h.m.ObserveRelist(t0.Add(time.Minute), 40*time.Millisecond)
	if got := testutil.ToFloat64(h.m.f.plegLastSeen); got != float64(t0.Add(time.Minute).Unix()) {
		t.Errorf("last seen %v", got)
	}
	expect(t, h.kubelet, `
# HELP kubelet_pleg_relist_interval_seconds Interval in seconds between relisting in PLEG.
# TYPE kubelet_pleg_relist_interval_seconds histogram
kubelet_pleg_relist_interval_seconds_bucket{le="0.005"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.01"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.025"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.05"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.1"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.25"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="0.5"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="1"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="2.5"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="5"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="10"} 0
kubelet_pleg_relist_interval_seconds_bucket{le="+Inf"} 1
kubelet_pleg_relist_interval_seconds_sum 60
kubelet_pleg_relist_interval_seconds_count 1
`, "kubelet_pleg_relist_interval_seconds")
	if got := testutil.CollectAndCount(h.m.f.plegDuration); got != 1 {
		t.Errorf("relist duration: %d series", got)
	}
}

func TestStartedPodsAndContainers(t *testing.T) {
	h := newHarness(t)
	h.m.ObserveSandboxStart(nil)
	h.m.ObserveSandboxStart(errors.New("cni: no IP left"))
	h.m.ObserveContainerStart(ContainerTypeInit, false, "")
	h.m.ObserveContainerStart(ContainerTypeContainer, false, "")
	h.m.ObserveContainerStart(ContainerTypeContainer, true, "CreateContainerConfigError")
	h.m.ObserveContainerStart(ContainerTypeContainer, true, "")
	expect(t, h.kubelet, `
# HELP kubelet_started_pods_total Cumulative number of pods started
# TYPE kubelet_started_pods_total counter
kubelet_started_pods_total 2
# HELP kubelet_started_pods_errors_total Cumulative number of errors when starting pods
# TYPE kubelet_started_pods_errors_total counter
kubelet_started_pods_errors_total 1
# HELP kubelet_started_containers_total Cumulative number of containers started
# TYPE kubelet_started_containers_total counter
kubelet_started_containers_total{container_type="container"} 3
kubelet_started_containers_total{container_type="init_container"} 1
# HELP kubelet_started_containers_errors_total Cumulative number of errors when starting containers
# TYPE kubelet_started_containers_errors_total counter
kubelet_started_containers_errors_total{code="CreateContainerConfigError",container_type="container"} 1
kubelet_started_containers_errors_total{code="RunContainerError",container_type="container"} 1
`, "kubelet_started_pods_total", "kubelet_started_pods_errors_total", "kubelet_started_containers_total", "kubelet_started_containers_errors_total")
}

// TestRunningPodsAndContainersFromTheRuntime: counted when scraped, from
// what the runtime has: pods by ready sandbox, containers by state.
func TestRunningPodsAndContainersFromTheRuntime(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sb1 := runSandbox(t, h.rt, "uid-1")
	runSandbox(t, h.rt, "uid-2")
	stopped := runSandbox(t, h.rt, "uid-3")
	if err := h.rt.StopPodSandbox(ctx, stopped); err != nil {
		t.Fatal(err)
	}
	h.rt.AddImage("img")
	running := container(t, h.rt, sb1, "web", true)
	container(t, h.rt, sb1, "side", true)
	container(t, h.rt, sb1, "created", false)
	if err := h.rt.ExitContainer(running, 1, "Error"); err != nil {
		t.Fatal(err)
	}
	expect(t, h.kubelet, `
# HELP kubelet_running_pods Number of pods that have a running pod sandbox
# TYPE kubelet_running_pods gauge
kubelet_running_pods 2
# HELP kubelet_running_containers Number of containers currently running
# TYPE kubelet_running_containers gauge
kubelet_running_containers{container_state="created"} 1
kubelet_running_containers{container_state="exited"} 1
kubelet_running_containers{container_state="running"} 1
kubelet_running_containers{container_state="unknown"} 0
`, "kubelet_running_pods", "kubelet_running_containers")
	h.rt.FailNext("ListContainers", errors.New("containerd is restarting"))
	if n, err := testutil.GatherAndCount(h.kubelet, "kubelet_running_pods", "kubelet_running_containers"); err != nil || n != 0 {
		t.Errorf("runtime down: %d series, %v; want them left out of the scrape", n, err)
	}
}

func runSandbox(t *testing.T, rt *fake.Fake, uid string) string {
	t.Helper()
	id, err := rt.RunPodSandbox(context.Background(), cri.SandboxConfig{Name: uid, Labels: map[string]string{cri.LabelPodUID: uid}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func container(t *testing.T, rt *fake.Fake, sb, name string, start bool) string {
	t.Helper()
	ctx := context.Background()
	id, err := rt.CreateContainer(ctx, sb, cri.ContainerConfig{Name: name, Image: "img"})
	if err == nil && start {
		err = rt.StartContainer(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPodStartDuration: from the first sight of a pod not running yet to
// the first sight of it Running; a pod already running when first seen
// (adopted after a restart) and one that never ran are not measured.
func TestPodStartDuration(t *testing.T) {
	h := newHarness(t)
	handler := h.m.PodStartHandler()
	pod := func(uid string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid)}, Status: corev1.PodStatus{Phase: phase}}
	}
	handler.OnAdd(pod("a", corev1.PodPending), false)
	handler.OnAdd(pod("adopted", corev1.PodRunning), true)
	handler.OnAdd(pod("fails", ""), false)
	h.clock.Step(3 * time.Second)
	handler.OnUpdate(pod("a", corev1.PodPending), pod("a", corev1.PodPending))
	h.clock.Step(500 * time.Millisecond)
	handler.OnUpdate(pod("a", corev1.PodPending), pod("a", corev1.PodRunning))
	handler.OnUpdate(pod("a", corev1.PodRunning), pod("a", corev1.PodRunning))
	handler.OnUpdate(pod("adopted", corev1.PodRunning), pod("adopted", corev1.PodRunning))
	handler.OnUpdate(pod("fails", ""), pod("fails", corev1.PodFailed))
	handler.OnDelete(cache.DeletedFinalStateUnknown{Obj: pod("gone", corev1.PodPending)})
	out := format(t, h.m.f.podStart)
	for _, want := range []string{"kubelet_pod_start_duration_seconds_count 1", "kubelet_pod_start_duration_seconds_sum 3.5",
		`kubelet_pod_start_duration_seconds_bucket{le="3"} 0`, `kubelet_pod_start_duration_seconds_bucket{le="4"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if len(h.m.seen) != 0 {
		t.Errorf("pods still tracked: %v", h.m.seen)
	}
}

// TestProbesOnTheirOwnRegistry: prober_probe_total by result with
// kubelet's labels, the duration of what did not fail, on /metrics/probes'
// registry; ForgetProbe removes a probe's series.
func TestProbesOnTheirOwnRegistry(t *testing.T) {
	h := newHarness(t)
	web := ProbeTarget{Type: ProbeReadiness, Namespace: "default", Pod: "web", PodUID: "u1", Container: "app"}
	h.m.ObserveProbe(web, ProbeSuccessful, 10*time.Millisecond)
	h.m.ObserveProbe(web, ProbeSuccessful, 10*time.Millisecond)
	h.m.ObserveProbe(web, ProbeFailed, time.Second)
	live := web
	live.Type = ProbeLiveness
	h.m.ObserveProbe(live, ProbeUnknown, 0)
	expect(t, h.prob, `
# HELP prober_probe_total Cumulative number of a liveness, readiness or startup probe for a container by result.
# TYPE prober_probe_total counter
prober_probe_total{container="app",namespace="default",pod="web",pod_uid="u1",probe_type="Liveness",result="unknown"} 1
prober_probe_total{container="app",namespace="default",pod="web",pod_uid="u1",probe_type="Readiness",result="failed"} 1
prober_probe_total{container="app",namespace="default",pod="web",pod_uid="u1",probe_type="Readiness",result="successful"} 2
`, "prober_probe_total")
	out := format(t, h.m.f.probeDuration)
	if !strings.Contains(out, `prober_probe_duration_seconds_count{container="app",namespace="default",pod="web",probe_type="Readiness"} 2`) {
		t.Errorf("durations:\n%s", out)
	}
	if n, _ := testutil.GatherAndCount(h.kubelet, "prober_probe_total"); n != 0 {
		t.Error("probe metrics on /metrics: kubelet serves them on /metrics/probes")
	}
	h.m.ForgetProbe(web)
	if n := testutil.CollectAndCount(h.m.f.probeTotal); n != 1 {
		t.Errorf("%d series after forgetting the readiness probe, want the liveness one", n)
	}
}

// format is the text exposition of one collector.
func format(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
