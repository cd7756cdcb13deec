package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/agent/prober"
	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// TestTheAgentProbesItsPods: without WithProber the agent runs
// agent/prober's Manager: a readiness exec probe runs in the container
// through the runtime, its result reaches the pod's status, and
// /metrics/probes counts it as kubelet's prober_probe_total.
func TestTheAgentProbesItsPods(t *testing.T) {
	rt := crifake.New()
	rt.SetExecHandler(func(string, []string) (cri.ExecResult, error) { return cri.ExecResult{}, nil })
	h := lifecycleHarness(t, rt, func(p *corev1.Pod) {
		p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
			ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"ready"}}}}
	})
	if _, ok := h.a.prober.(*prober.Manager); !ok {
		t.Fatalf("the agent's prober is a %T", h.a.prober)
	}
	t.Cleanup(h.a.prober.Stop)
	id := h.runningID("a")
	deadline := time.After(10 * time.Second)
	for ready := false; !ready; {
		if h.clock.HasWaiters() {
			h.clock.Step(time.Second) // the worker's first wait, then its period
		}
		select {
		case u := <-h.a.prober.Updates():
			h.a.onProbeUpdate(u)
			ready = u.Kind == ProbeReadiness && u.Result == ProbeSuccess && u.ContainerID == id
		case <-time.After(10 * time.Millisecond): // poll the clock's waiters again
		case <-deadline:
			t.Fatal("no readiness success")
		}
	}
	if cs := h.pod("ns", "p").Status.ContainerStatuses[0]; !cs.Ready {
		t.Fatalf("the probe's success did not reach the status: %+v", cs)
	}
	_, probes := h.a.metrics.Gatherers()
	n, err := testutil.GatherAndCount(probes, "prober_probe_total")
	if err != nil || n != 1 {
		t.Fatalf("prober_probe_total has %d series (%v), want the readiness probe's", n, err)
	}
	h.a.prober.RemovePod("uid1")
	for n > 0 {
		select {
		case <-deadline:
			t.Fatal("the removed pod's probe series stayed")
		case <-time.After(time.Millisecond): // poll, with the deadline above
		}
		n, _ = testutil.GatherAndCount(probes, "prober_probe_total")
	}
}

// TestProbeMetricsLabels: the agent reports a probe with kubelet's labels
// and result words.
func TestProbeMetricsLabels(t *testing.T) {
	h := newHarness(t, crifake.New())
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pm := probeMetrics{h.a.metrics}
	pm.ObserveProbe(pod, "a", ProbeLiveness, ProbeFailure, time.Second)
	_, probes := h.a.metrics.Gatherers()
	want := `
# HELP prober_probe_total Cumulative number of a liveness, readiness or startup probe for a container by result.
# TYPE prober_probe_total counter
prober_probe_total{container="a",namespace="ns",pod="p",pod_uid="uid1",probe_type="Liveness",result="failed"} 1
`
	if err := testutil.GatherAndCompare(probes, strings.NewReader(want), "prober_probe_total"); err != nil {
		t.Fatal(err)
	}
}
