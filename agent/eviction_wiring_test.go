package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/cri"
	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// An evicted pod is Failed with reason Evicted and the manager's message,
// its containers stop within the eviction's grace period (not the pod's
// hour), and it stays Failed when its container then exits 0.
func TestEvictPod(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyNever, nil, "a")
	pod.Spec.NodeName = "n1"
	pod.Spec.TerminationGracePeriodSeconds = ptrTo[int64](3600)
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	c := h.containers()[0]
	if err := rt.IgnoreTerm(c.ID); err != nil {
		t.Fatal(err)
	}
	const msg = "The node was low on resource: memory. "
	done := make(chan error, 1)
	active := h.a.activePods()
	if len(active) != 1 {
		t.Fatalf("active pods %d, want 1", len(active))
	}
	go func() {
		done <- h.a.evictPod(h.ctx, active[0], 1, func(s *corev1.PodStatus) {
			s.Phase, s.Reason, s.Message = corev1.PodFailed, "Evicted", msg
		})
	}()
	waitUntil(t, func() bool { return h.pod("ns", "p").Status.Reason == "Evicted" })
	h.waitCache("ns", "p")
	synced := make(chan struct{})
	go func() { h.sync("ns/p"); close(synced) }()
	select {
	case <-synced:
	case <-time.After(15 * time.Second):
		t.Fatal("the evicted pod's kill took the pod's grace period, not the eviction's")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range h.containers() {
		if c.State == cri.ContainerRunning {
			t.Fatalf("container %s still running", c.ID)
		}
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	s := h.pod("ns", "p").Status
	if s.Phase != corev1.PodFailed || s.Reason != "Evicted" || s.Message != msg {
		t.Fatalf("status %s/%s %q, want Failed/Evicted %q", s.Phase, s.Reason, s.Message, msg)
	}
	if len(h.a.activePods()) != 0 {
		t.Error("the evicted pod is still active")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met within 10s")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// A pod of restartPolicy Never whose container exits 0 once evicted stays
// Failed/Evicted, not Succeeded.
func TestEvictedPodStaysFailed(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	pod := podSpec(corev1.RestartPolicyNever, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	h.sync("ns/p")
	id := h.containers()[0].ID
	done := make(chan error, 1)
	go func() {
		done <- h.a.evictPod(h.ctx, h.a.activePods()[0], 1, func(s *corev1.PodStatus) {
			s.Phase, s.Reason, s.Message = corev1.PodFailed, "Evicted", "m"
		})
	}()
	waitUntil(t, func() bool { return h.pod("ns", "p").Status.Reason == "Evicted" })
	rt.ExitContainer(id, 0, "") // it handled SIGTERM
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	if s := h.pod("ns", "p").Status; s.Phase != corev1.PodFailed || s.Reason != "Evicted" {
		t.Fatalf("status %s/%s, want Failed/Evicted", s.Phase, s.Reason)
	}
}

type refuseAll struct{}

func (refuseAll) Admit(*corev1.Pod) (bool, string, string) {
	return false, "Evicted", "The node had condition: [DiskPressure]. "
}

// Under pressure a new pod is refused as kubelet refuses it, and never
// runs; a pod that already runs is not touched.
func TestNewPodRefusedUnderPressure(t *testing.T) {
	rt := crifake.New()
	rt.AddImage("img")
	running := podSpec(corev1.RestartPolicyAlways, nil, "a")
	running.Spec.NodeName = "n1"
	fresh := podSpec(corev1.RestartPolicyAlways, nil, "a")
	fresh.Name, fresh.UID, fresh.Spec.NodeName = "q", "uid2", "n1"
	h := newHarness(t, rt, running, fresh)
	h.sync("ns/p")
	h.a.admitter = refuseAll{}
	h.waitCache("ns", "p")
	h.sync("ns/p")
	h.sync("ns/q")
	if s := h.pod("ns", "q").Status; s.Phase != corev1.PodFailed || s.Reason != "Evicted" ||
		s.Message != "Pod was rejected: The node had condition: [DiskPressure]. " {
		t.Errorf("refused pod's status %s/%s %q", s.Phase, s.Reason, s.Message)
	}
	sbs, _ := rt.ListPodSandboxes(h.ctx, map[string]string{cri.LabelPodUID: "uid2"})
	if len(sbs) != 0 {
		t.Errorf("the refused pod has %d sandboxes", len(sbs))
	}
	if p := h.pod("ns", "p"); p.Status.Phase != corev1.PodRunning {
		t.Errorf("the running pod is %s", p.Status.Phase)
	}
	h.waitCache("ns", "q")
	h.sync("ns/q") // and stays refused
	if s := h.pod("ns", "q").Status; s.Phase != corev1.PodFailed || s.Reason != "Evicted" {
		t.Errorf("after another sync: %s/%s", s.Phase, s.Reason)
	}
}
