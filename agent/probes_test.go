package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// probedHarness runs pod (container a, with the probes set by probes) on
// an agent wired to a FakeProber.
func probedHarness(t *testing.T, probes func(*corev1.Container)) (*harness, *FakeProber) {
	t.Helper()
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	probes(&pod.Spec.Containers[0])
	fp := NewFakeProber()
	h := newHarnessWith(t, rt, []Option{WithProber(fp)}, pod)
	h.startInformer()
	h.a.recorder = record.NewFakeRecorder(100)
	h.sync("ns/p")
	if !fp.Probed(pod.UID) {
		t.Fatal("the pod worker did not hand the pod to the prober")
	}
	return h, fp
}

// deliver hands the prober's next update to the agent, as its update
// loop does.
func (h *harness) deliver(fp *FakeProber) {
	h.t.Helper()
	select {
	case u := <-fp.Updates():
		h.a.onProbeUpdate(u)
	default:
		h.t.Fatal("the prober delivered no update")
	}
}

func (h *harness) runningID(name string) string {
	h.t.Helper()
	for _, c := range h.containers() {
		if c.Labels[cri.LabelContainerName] == name && c.State == cri.ContainerRunning {
			return statusContainerID(c)
		}
	}
	h.t.Fatalf("container %s does not run", name)
	return ""
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	return cond(p.Status, t)
}

// TestReadinessResultReachesTheStatus: a container with a readiness
// probe is not ready until the probe succeeds; each result is written at
// once, with the pod's Ready condition (which the EndpointSlices follow).
func TestReadinessResultReachesTheStatus(t *testing.T) {
	h, fp := probedHarness(t, func(c *corev1.Container) { c.ReadinessProbe = &corev1.Probe{} })
	id := h.runningID("a")
	ready := func() (bool, corev1.ConditionStatus) {
		p := h.pod("ns", "p")
		return p.Status.ContainerStatuses[0].Ready, podCondition(p, corev1.PodReady)
	}
	if r, c := ready(); r || c != corev1.ConditionFalse {
		t.Fatalf("before any result: ready %v, Ready %s", r, c)
	}
	for _, step := range []struct {
		result ProbeResult
		ready  bool
	}{{ProbeSuccess, true}, {ProbeFailure, false}, {ProbeSuccess, true}} {
		fp.Set("uid1", id, ProbeReadiness, step.result)
		h.deliver(fp)
		want := corev1.ConditionFalse
		if step.ready {
			want = corev1.ConditionTrue
		}
		if r, c := ready(); r != step.ready || c != want {
			t.Fatalf("after %v: ready %v, Ready %s", step.result, r, c)
		}
	}
	// A later sync of the pod keeps the prober's verdict.
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if r, _ := ready(); !r {
		t.Fatal("a sync forgot the readiness result")
	}
}

// TestStartupGatesStartedAndReady: until its startup probe succeeds a
// container has not started, and is not ready.
func TestStartupGatesStartedAndReady(t *testing.T) {
	h, fp := probedHarness(t, func(c *corev1.Container) { c.StartupProbe = &corev1.Probe{} })
	cs := func() corev1.ContainerStatus { return h.pod("ns", "p").Status.ContainerStatuses[0] }
	if s := cs(); *s.Started || s.Ready {
		t.Fatalf("before the startup probe succeeded: started %v ready %v", *s.Started, s.Ready)
	}
	fp.Set("uid1", h.runningID("a"), ProbeStartup, ProbeSuccess)
	h.deliver(fp)
	if s := cs(); !*s.Started || !s.Ready {
		t.Fatalf("after it succeeded: started %v ready %v", *s.Started, s.Ready)
	}
}

// TestLivenessFailureRestartsTheContainer: a failed liveness probe wakes
// the pod's worker, which kills the container with kubelet's event; the
// restart policy brings it back after its back-off, restartCount 1.
func TestLivenessFailureRestartsTheContainer(t *testing.T) {
	h, fp := probedHarness(t, func(c *corev1.Container) { c.LivenessProbe = &corev1.Probe{} })
	fp.Set("uid1", h.runningID("a"), ProbeLiveness, ProbeFailure)
	h.deliver(fp)
	if h.a.queue.Len() != 1 {
		t.Fatalf("the liveness failure queued %d pods, want the pod", h.a.queue.Len())
	}
	h.drain()
	if cs := h.containers(); len(cs) != 1 || cs[0].State != cri.ContainerExited {
		t.Fatalf("the unhealthy container was not killed: %+v", cs)
	}
	events := drain(h.a.recorder.(*record.FakeRecorder))
	if !slices.ContainsFunc(events, func(e string) bool {
		return strings.HasPrefix(e, "Normal Killing Container a failed liveness probe, will be restarted")
	}) {
		t.Fatalf("no Killing event: %v", events)
	}
	h.clock.Step(11 * time.Second)
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if s := h.pod("ns", "p").Status.ContainerStatuses[0]; s.State.Running == nil || s.RestartCount != 1 {
		t.Fatalf("after the back-off: %+v", s)
	}
}

// TestDeletedPodLeavesTheProber: a torn-down pod is no longer probed.
func TestDeletedPodLeavesTheProber(t *testing.T) {
	h, fp := probedHarness(t, func(c *corev1.Container) { c.ReadinessProbe = &corev1.Probe{} })
	h.a.teardown(h.ctx, "uid1")
	if fp.Probed("uid1") {
		t.Fatal("the prober still probes a torn-down pod")
	}
}
