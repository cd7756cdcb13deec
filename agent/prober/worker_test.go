package prober

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// result returns the container's result of kind, or "none".
func result(h *harness, kind Kind, id string) string {
	r, ok := h.m.results.Get(kind, id)
	if !ok {
		return "none"
	}
	return r.String()
}

func TestWorkerThresholdsAndInitialValues(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		// exit codes of successive probes, and the published result after each
		codes []int32
		want  []string
	}{
		// Readiness starts Failure, needs successThreshold 2 successes.
		{kind: Readiness, codes: []int32{0, 0, 1, 1, 1, 0}, want: []string{"Failure", "Success", "Success", "Success", "Failure", "Failure"}},
		// Liveness starts Success, fails after failureThreshold 3 in a row.
		{kind: Liveness, codes: []int32{1, 1, 0, 1, 1, 1}, want: []string{"Success", "Success", "Success", "Success", "Success", "Failure"}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			h := newHarness(t)
			p := execProbe("check")
			p.FailureThreshold = 3
			if tc.kind == Readiness {
				p.SuccessThreshold = 2
			}
			c := corev1.Container{ReadinessProbe: p, LivenessProbe: p}
			pod := testPod(c)
			h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
			w := newWorker(h.m, tc.kind, pod, pod.Spec.Containers[0])
			for i, code := range tc.codes {
				h.exec.setResult(code, "", nil)
				if !w.doProbe(context.Background()) {
					t.Fatalf("probe %d: the worker stopped", i)
				}
				if got := result(h, tc.kind, "c1"); got != tc.want[i] {
					t.Fatalf("after probe %d (exit %d): %s, want %s", i, code, got, tc.want[i])
				}
			}
		})
	}
}

// started marks every container of s as started (its startup probe passed
// or it has none), as UpdatePodStatus would.
func started(s corev1.PodStatus) corev1.PodStatus {
	yes := true
	for i := range s.ContainerStatuses {
		s.ContainerStatuses[i].Started = &yes
	}
	return s
}

func TestWorkerWaitsForInitialDelay(t *testing.T) {
	h := newHarness(t)
	p := execProbe("check")
	p.InitialDelaySeconds = 30
	pod := testPod(corev1.Container{LivenessProbe: p})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	w := newWorker(h.m, Liveness, pod, pod.Spec.Containers[0])
	w.doProbe(context.Background())
	h.clock.Step(29 * time.Second)
	w.doProbe(context.Background())
	if n := h.exec.count(); n != 0 {
		t.Fatalf("%d probes within the initial delay", n)
	}
	h.clock.Step(time.Second)
	w.doProbe(context.Background())
	if n := h.exec.count(); n != 1 {
		t.Fatalf("%d probes after the initial delay, want 1", n)
	}
}

func TestStartupGatesTheOthers(t *testing.T) {
	h := newHarness(t)
	p := execProbe("check")
	pod := testPod(corev1.Container{LivenessProbe: p, StartupProbe: p})
	st := running(pod, "10.244.0.5", t0, "c1")
	no := false
	st.ContainerStatuses[0].Started = &no
	h.status.set(pod.UID, st)
	live := newWorker(h.m, Liveness, pod, pod.Spec.Containers[0])
	start := newWorker(h.m, Startup, pod, pod.Spec.Containers[0])
	live.doProbe(context.Background())
	if h.exec.count() != 0 {
		t.Fatal("liveness probed before the container started")
	}
	if got := result(h, Startup, "c1"); got != "none" {
		t.Fatalf("startup %s before its first probe", got)
	}
	start.doProbe(context.Background())
	if got := result(h, Startup, "c1"); got != "Success" || h.exec.count() != 1 {
		t.Fatalf("startup %s after a passing probe (%d runs)", got, h.exec.count())
	}
	// Once started, the startup probe is done: only liveness runs.
	h.status.set(pod.UID, started(st))
	start.doProbe(context.Background())
	live.doProbe(context.Background())
	if h.exec.count() != 2 {
		t.Fatalf("%d runs, want 2 (startup once, liveness once)", h.exec.count())
	}
}

func TestStartupUnknownUntilItPasses(t *testing.T) {
	h := newHarness(t)
	h.exec.setResult(1, "", nil)
	p := execProbe("check")
	p.FailureThreshold = 2
	pod := testPod(corev1.Container{StartupProbe: p})
	h.status.set(pod.UID, running(pod, "10.244.0.5", t0, "c1"))
	w := newWorker(h.m, Startup, pod, pod.Spec.Containers[0])
	w.doProbe(context.Background())
	if got := result(h, Startup, "c1"); got != "Unknown" {
		t.Fatalf("after one failure below the threshold: %s, want Unknown", got)
	}
	w.doProbe(context.Background())
	if got := result(h, Startup, "c1"); got != "Failure" {
		t.Fatalf("after the threshold: %s, want Failure", got)
	}
	w.doProbe(context.Background())
	if h.exec.count() != 2 {
		t.Fatalf("%d runs: a failed startup probe probes until the container restarts", h.exec.count())
	}
}

func TestLivenessFailureHoldsUntilANewContainer(t *testing.T) {
	h := newHarness(t)
	h.exec.setResult(1, "not ok", nil)
	p := execProbe("check")
	p.FailureThreshold = 1
	pod := testPod(corev1.Container{LivenessProbe: p})
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c1")))
	w := newWorker(h.m, Liveness, pod, pod.Spec.Containers[0])
	w.doProbe(context.Background())
	w.doProbe(context.Background())
	if got := result(h, Liveness, "c1"); got != "Failure" || h.exec.count() != 1 {
		t.Fatalf("%s after %d runs; want Failure after 1 (then on hold)", got, h.exec.count())
	}
	if !hasEvent(drainEvents(h.events), "Warning Unhealthy Liveness probe failed: not ok") {
		t.Fatal("no Unhealthy event")
	}
	// The restarted container is a new instance: a fresh Success, probed again.
	h.exec.setResult(0, "", nil)
	h.status.set(pod.UID, started(running(pod, "10.244.0.5", t0, "c2")))
	w.doProbe(context.Background())
	if result(h, Liveness, "c1") != "none" || result(h, Liveness, "c2") != "Success" || h.exec.count() != 2 {
		t.Fatalf("old %s, new %s after %d runs", result(h, Liveness, "c1"), result(h, Liveness, "c2"), h.exec.count())
	}
}

func TestWorkerOnStoppedContainersAndPods(t *testing.T) {
	p := execProbe("check")
	exited := func(s corev1.PodStatus) corev1.PodStatus {
		s.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
		return s
	}
	for _, tc := range []struct {
		name       string
		policy     corev1.RestartPolicy
		status     func(corev1.PodStatus) corev1.PodStatus
		deleted    bool
		kind       Kind
		wantGoOn   bool
		wantResult string
	}{
		{name: "exited, will restart", policy: corev1.RestartPolicyAlways, status: exited, kind: Readiness, wantGoOn: true, wantResult: "Failure"},
		{name: "exited for good", policy: corev1.RestartPolicyNever, status: exited, kind: Readiness, wantGoOn: false, wantResult: "Failure"},
		{name: "pod succeeded", policy: corev1.RestartPolicyNever, kind: Liveness,
			status: func(s corev1.PodStatus) corev1.PodStatus { s.Phase = corev1.PodSucceeded; return s }, wantGoOn: false, wantResult: "none"},
		{name: "pod deleted: liveness passes quietly", policy: corev1.RestartPolicyAlways, deleted: true, kind: Liveness, wantGoOn: false, wantResult: "Success"},
		{name: "pod deleted: readiness goes on", policy: corev1.RestartPolicyAlways, deleted: true, kind: Readiness, wantGoOn: true, wantResult: "Success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pod := testPod(corev1.Container{LivenessProbe: p, ReadinessProbe: p})
			pod.Spec.RestartPolicy = tc.policy
			if tc.deleted {
				pod.DeletionTimestamp = &metav1.Time{Time: t0}
			}
			st := started(running(pod, "10.244.0.5", t0, "c1"))
			if tc.status != nil {
				st = tc.status(st)
			}
			h.status.set(pod.UID, st)
			w := newWorker(h.m, tc.kind, pod, pod.Spec.Containers[0])
			if got := w.doProbe(context.Background()); got != tc.wantGoOn {
				t.Fatalf("go on %v, want %v", got, tc.wantGoOn)
			}
			if got := result(h, tc.kind, "c1"); got != tc.wantResult {
				t.Fatalf("result %s, want %s", got, tc.wantResult)
			}
		})
	}
}

func TestWorkerWithoutStatusOrContainerWaits(t *testing.T) {
	h := newHarness(t)
	pod := testPod(corev1.Container{ReadinessProbe: execProbe("check")})
	w := newWorker(h.m, Readiness, pod, pod.Spec.Containers[0])
	if !w.doProbe(context.Background()) {
		t.Fatal("stopped without a status")
	}
	h.status.set(pod.UID, corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "app"}}})
	if !w.doProbe(context.Background()) || h.exec.count() != 0 {
		t.Fatal("probed a container that has no id yet")
	}
}
