package agent

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

// TestPullFailuresGiveErrImagePullThenBackOff drives a pod whose image
// fails to pull three times on a fake clock: each attempt shows
// ErrImagePull, the waits between them ImagePullBackOff, and the waits
// double (10 s, 20 s, 40 s) until the pull succeeds and the container runs.
func TestPullFailuresGiveErrImagePullThenBackOff(t *testing.T) {
	rt := crifake.New()
	boom := errors.New("registry says no")
	for range 3 {
		rt.FailNextPull("img", boom)
	}
	pod := podSpec(corev1.RestartPolicyAlways, nil, "a")
	pod.Spec.NodeName = "n1"
	h := newHarness(t, rt, pod)
	start := h.clock.Now()
	for _, step := range []struct {
		at   time.Duration
		want string // waiting reason, or "running"
	}{
		{0, "ErrImagePull"},
		{time.Second, "ImagePullBackOff"},
		{10 * time.Second, "ErrImagePull"},
		{25 * time.Second, "ImagePullBackOff"}, // a fixed 10 s back-off would pull here
		{30 * time.Second, "ErrImagePull"},
		{69 * time.Second, "ImagePullBackOff"},
		{70 * time.Second, "running"},
	} {
		h.clock.SetTime(start.Add(step.at))
		h.a.syncKey(h.ctx, nameKey("ns", "p")) // fails while the pull does
		if got := containerState(h.pod("ns", "p")); got != step.want {
			t.Fatalf("at +%s: container %s, want %s", step.at, got, step.want)
		}
		h.waitCache("ns", "p")
	}
}

func containerState(p *corev1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 {
		return "no status"
	}
	st := p.Status.ContainerStatuses[0].State
	switch {
	case st.Running != nil:
		return "running"
	case st.Waiting != nil:
		return st.Waiting.Reason
	}
	return "terminated"
}
