package agent

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	crifake "github.com/nodeagent/nodeagent/cri/fake"
)

func TestPullBackoffDoublesToTheMaximum(t *testing.T) {
	b := newPullBackoff(10*time.Second, 5*time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// Each step: a failure at second fail gives back-off want; then the
	// back-off left at second probe.
	steps := []struct {
		fail        int
		want        time.Duration
		probe       int
		wantLeft    time.Duration
		description string
	}{
		{0, 10 * time.Second, 5, 5 * time.Second, "first failure: 10 s"},
		{10, 20 * time.Second, 25, 5 * time.Second, "second: doubled"},
		{30, 40 * time.Second, 70, 0, "third: 40 s, over at its end"},
		{70, 80 * time.Second, 71, 79 * time.Second, "fourth: 80 s"},
		{150, 160 * time.Second, 150, 160 * time.Second, "fifth: 160 s"},
		{310, 5 * time.Minute, 311, 299 * time.Second, "sixth: capped at 5 min, not 320 s"},
		{610, 5 * time.Minute, 1000, 0, "seventh: stays at the cap"},
		{610 + 601, 10 * time.Second, 610 + 602, 9 * time.Second, "quiet for more than 10 min: starts over"},
	}
	for _, s := range steps {
		if got := b.failed("img", at(s.fail)); got != s.want {
			t.Errorf("%s: back-off %s, want %s", s.description, got, s.want)
		}
		if got := b.remaining("img", at(s.probe)); got != s.wantLeft {
			t.Errorf("%s: left at +%ds %s, want %s", s.description, s.probe, got, s.wantLeft)
		}
	}
	if got := b.remaining("other", t0); got != 0 {
		t.Errorf("an image that never failed is in back-off: %s", got)
	}
	b.succeeded("img")
	if got := b.failed("img", at(1300)); got != 10*time.Second {
		t.Errorf("after a success the back-off starts over: %s", got)
	}
}

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
	start := h.now
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
		h.now = start.Add(step.at)
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
