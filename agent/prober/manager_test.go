package prober

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/cri"
)

func TestNewValidates(t *testing.T) {
	_, err := New(Config{UpdateBuffer: -1})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Exec", "Status", "UpdateBuffer -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestManagerProbesEveryPeriod(t *testing.T) {
	h := newHarness(t)
	p := execProbe("check")
	p.FailureThreshold = 1
	pod := testPod(corev1.Container{ReadinessProbe: p})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	h.m.AddPod(pod)
	// A new container is not ready; the first probe runs at once.
	want := []Update{{pod.UID, "containerd://c1", Readiness, Failure}, {pod.UID, "containerd://c1", Readiness, Success}}
	for _, w := range want {
		if got := nextUpdate(t, h.m); got != w {
			t.Fatalf("update %+v, want %+v", got, w)
		}
	}
	h.exec.setResult(1, "down", nil)
	h.clock.Step(9 * time.Second)
	h.clock.Step(time.Second) // one period after the first probe
	if got := nextUpdate(t, h.m); got != (Update{pod.UID, "containerd://c1", Readiness, Failure}) {
		t.Fatalf("update %+v after a failing probe", got)
	}
	if n := h.exec.count(); n != 2 {
		t.Fatalf("%d probes in one period", n)
	}
}

func TestManagerJittersProbesRightAfterStart(t *testing.T) {
	h := &harness{exec: &fakeExec{}, status: newFakeStatus(), clock: clocktesting.NewFakeClock(t0)}
	m, err := New(Config{Exec: h.exec, Status: h.status, Clock: h.clock, Jitter: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	pod := testPod(corev1.Container{LivenessProbe: execProbe("check")})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	m.AddPod(pod)
	eventually(t, "the jitter timer", h.clock.HasWaiters)
	if h.exec.count() != 0 {
		t.Fatal("probed before the jitter passed")
	}
	h.clock.Step(5 * time.Second) // half of the 10 s period
	eventually(t, "the first probe", func() bool { return h.exec.count() == 1 })
}

func TestManagerStopsAndReplacesWorkers(t *testing.T) {
	h := newHarness(t)
	p := execProbe("check")
	pod := testPod(corev1.Container{ReadinessProbe: p, LivenessProbe: p})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	h.m.AddPod(pod)
	h.m.AddPod(pod) // no second set of workers
	eventually(t, "both first results", func() bool { return result(h, Liveness, "c1") == "Success" && result(h, Readiness, "c1") == "Success" })
	if n := workerCount(h.m); n != 2 {
		t.Fatalf("%d workers, want 2", n)
	}

	h.m.StopLivenessAndStartup(pod.UID)
	eventually(t, "the liveness worker to end", func() bool { return workerCount(h.m) == 1 })
	if result(h, Liveness, "c1") != "none" || result(h, Readiness, "c1") != "Success" {
		t.Fatal("the liveness result outlived its worker, or readiness stopped")
	}

	h.m.AddPod(pod) // liveness comes back
	h.m.CleanupPods(map[types.UID]bool{"another": true})
	eventually(t, "every worker to end", func() bool { return workerCount(h.m) == 0 })
	if result(h, Readiness, "c1") != "none" {
		t.Fatal("a result outlived its worker")
	}
}

func workerCount(m *Manager) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.workers)
}

func TestRemovePodThenAddPodAgain(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{ReadinessProbe: execProbe("check")})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	h.m.AddPod(pod)
	eventually(t, "the first probe", func() bool { return h.exec.count() == 1 })
	h.m.RemovePod(pod.UID)
	h.m.AddPod(pod) // the stopping worker is replaced, not kept
	eventually(t, "the new worker's probe", func() bool { return h.exec.count() == 2 })
	eventually(t, "one worker", func() bool { return workerCount(h.m) == 1 })
}

func TestUpdatePodStatus(t *testing.T) {
	h := newHarness(t)
	always := corev1.ContainerRestartPolicyAlways
	pod := testPod(corev1.Container{Name: "app", ReadinessProbe: execProbe("ready?"), StartupProbe: execProbe("started?")})
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "plain"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "setup"}, {Name: "proxy", RestartPolicy: &always, ReadinessProbe: execProbe("proxy?")}}
	st := running(pod, "10.244.0.5", t0, "c1", "c2")
	st.InitContainerStatuses = []corev1.ContainerStatus{
		{Name: "setup", ContainerID: "containerd://i1", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
		{Name: "proxy", ContainerID: "containerd://i2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
	}
	var passing sync.Map // commands that exit 0
	h.exec.fn = func(_ string, cmd []string) (cri.ExecResult, error) {
		if _, ok := passing.Load(cmd[0]); ok {
			return cri.ExecResult{}, nil
		}
		return cri.ExecResult{ExitCode: 1}, nil
	}
	// publish computes the status as the agent does and stores it where
	// the workers read it.
	publish := func() corev1.PodStatus {
		s := *st.DeepCopy()
		h.m.UpdatePodStatus(pod, &s)
		h.status.set(pod.UID, s)
		return s
	}
	check := func(what string, s corev1.PodStatus, want map[string][2]bool) {
		t.Helper()
		for _, cs := range append(s.ContainerStatuses, s.InitContainerStatuses...) {
			w := want[cs.Name]
			if cs.Started == nil || *cs.Started != w[0] || cs.Ready != w[1] {
				t.Errorf("%s: %s started %v ready %v, want %v %v", what, cs.Name, deref(cs.Started), cs.Ready, w[0], w[1])
			}
		}
	}
	h.m.AddPod(pod)
	check("before any probe", publish(), map[string][2]bool{
		"app": {false, false}, "plain": {true, true}, "setup": {false, true}, "proxy": {true, false}})

	passing.Store("started?", true)
	passing.Store("proxy?", true)
	h.clock.Step(10 * time.Second)
	eventually(t, "startup and the sidecar's readiness to pass", func() bool {
		return result(h, Startup, "c1") == "Success" && result(h, Readiness, "i2") == "Success"
	})
	check("started, not ready", publish(), map[string][2]bool{
		"app": {true, false}, "plain": {true, true}, "setup": {false, true}, "proxy": {true, true}})

	passing.Store("ready?", true)
	publish() // triggers the app's readiness probe: no tick needed
	eventually(t, "the app's readiness", func() bool { return result(h, Readiness, "c1") == "Success" })
	check("all ready", publish(), map[string][2]bool{
		"app": {true, true}, "plain": {true, true}, "setup": {false, true}, "proxy": {true, true}})
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestHTTPReadinessThroughTheDialer(t *testing.T) {
	h := newHarness(t)
	ready := make(chan bool, 1)
	ready <- false
	podServer(t, h.net, "10.244.0.5:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := <-ready
		ready <- ok
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}},
		PeriodSeconds: 1, FailureThreshold: 1, SuccessThreshold: 1, TimeoutSeconds: 1}
	pod := testPod(corev1.Container{ReadinessProbe: p, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	h.m.AddPod(pod)
	if u := nextUpdate(t, h.m); u.Result != Failure {
		t.Fatalf("first update %+v", u)
	}
	eventually(t, "the Unhealthy event", func() bool {
		return hasEvent(drainEvents(h.events), "Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 503")
	})
	<-ready
	ready <- true
	h.clock.Step(time.Second)
	if u := nextUpdate(t, h.m); u.Result != Success {
		t.Fatalf("update %+v after the pod became ready", u)
	}
	for _, a := range h.net.Dialed() {
		if a != "10.244.0.5:8080" {
			t.Fatalf("dialled %s, not the pod", a)
		}
	}
}

// agentSeam is the agent's Prober interface (agent/probes.go), with its
// kind, result and update types taken as aliases of this package's: the
// Manager plugs into WithProber as it is.
type agentSeam interface {
	AddPod(pod *corev1.Pod)
	RemovePod(uid types.UID)
	Result(kind Kind, containerID string) Result
	Updates() <-chan Update
}

var _ agentSeam = (*Manager)(nil)

var (
	_ Recorder       = record.NewFakeRecorder(1) // record.EventRecorder is one
	_ StatusProvider = StatusFunc(nil)
)
