package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	statsapi "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// scrape is what the agent's /metrics serves (authorization aside: the
// apiauth filter in front of it is tested on its own and end to end).
func scrape(t *testing.T, a *Agent, path string) string {
	t.Helper()
	mux := http.NewServeMux()
	a.observeRoutes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func expectLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
}

// TestSyncCountsStartsAsKubelet: a sandbox start, the init container's and
// the app containers' starts by type, a failed start by kubelet's code.
func TestSyncCountsStartsAsKubelet(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	h.sync("ns/p")
	rt.ExitContainer(h.containers()[0].ID, 0, "")
	h.waitCache("ns", "p")
	rt.FailNext("StartContainer", errors.New("runc: exec format error"))
	if err := h.a.syncKey(h.ctx, nameKey("ns", "p")); err == nil {
		t.Fatal("a failed start did not fail the sync")
	}
	expectLines(t, scrape(t, h.a, "/metrics"),
		`kubelet_node_name{node="n1"} 1`,
		"kubelet_started_pods_total 1",
		"kubelet_started_pods_errors_total 0",
		`kubelet_started_containers_total{container_type="init_container"} 1`,
		`kubelet_started_containers_total{container_type="container"} 2`,
		`kubelet_started_containers_errors_total{code="RunContainerError",container_type="container"} 1`,
		"kubelet_running_pods 1",
		`kubelet_running_containers{container_state="running"} 1`,
		`kubelet_running_containers{container_state="exited"} 1`)
}

// TestWorkerTimesEachSync: kubelet_pod_worker_duration_seconds by
// operation, a pod's sync and a leftover's teardown (kill).
func TestWorkerTimesEachSync(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.a.worker(ctx); close(done) }()
	t.Cleanup(func() { cancel(); h.a.queue.ShutDown(); <-done })
	h.a.queue.Add(nameKey("ns", "p"))
	h.a.queue.Add(orphanKey("0e6a0a4e-0000-4000-8000-000000000001"))
	deadline := time.Now().Add(10 * time.Second)
	for testutil.CollectAndCount(h.a.metrics.WorkerDurations()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("worker durations:\n%s", scrape(t, h.a, "/metrics"))
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not synchronising on time
	}
	out := scrape(t, h.a, "/metrics")
	expectLines(t, out, `kubelet_pod_worker_duration_seconds_count{operation_type="kill"} 1`)
	if !strings.Contains(out, `kubelet_pod_worker_duration_seconds_count{operation_type="sync"} `) {
		t.Errorf("no sync durations in\n%s", out) // the informer queues the pod too: one or more
	}
}

// TestSummaryRoute: /stats/summary answers kubelet's JSON with the node and
// the running pod; only_cpu_and_memory leaves the rest out.
func TestSummaryRoute(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	h := newHarness(t, rt, appPod())
	h.sync("ns/p")
	var s statsapi.Summary
	if err := json.Unmarshal([]byte(scrape(t, h.a, "/stats/summary")), &s); err != nil {
		t.Fatal(err)
	}
	if s.Node.NodeName != "n1" || len(s.Pods) != 1 || s.Pods[0].PodRef.Name != "p" || len(s.Pods[0].Containers) != 1 {
		t.Fatalf("summary %+v", s)
	}
	var small statsapi.Summary
	if err := json.Unmarshal([]byte(scrape(t, h.a, "/stats/summary?only_cpu_and_memory=true")), &small); err != nil ||
		small.Node.Fs != nil || len(small.Pods) != 1 {
		t.Errorf("only cpu and memory: %+v, %v", small, err)
	}
	expectLines(t, scrape(t, h.a, "/metrics/resource"), "resource_scrape_error 0")
	if out := scrape(t, h.a, "/metrics/probes"); strings.Contains(out, "kubelet_") {
		t.Errorf("/metrics/probes serves kubelet's metrics:\n%s", out)
	}
}
