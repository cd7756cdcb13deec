package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestAssumeCache(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	a := newAssumeCache(clk, 30*time.Second)
	p := pod("p", "1", "")
	a.assume("default/p", p, "n1")
	cache := map[string]*corev1.Pod{"default/p": p}
	lookup := func(key string) (*corev1.Pod, bool) { c, ok := cache[key]; return c, ok }

	if got := a.pending(lookup); len(got) != 1 || got[0].Spec.NodeName != "n1" || !a.has("default/p", p) {
		t.Fatalf("fresh assumption: pending = %v", got)
	}
	if p.Spec.NodeName != "" {
		t.Fatal("assume changed the cached pod")
	}
	recreated := pod("p", "1", "", func(p *corev1.Pod) { p.UID = "other" })
	if a.has("default/p", recreated) {
		t.Error("a recreated pod of the same name is not assumed")
	}
	clk.Step(31 * time.Second)
	if got := a.pending(lookup); len(got) != 0 || a.has("default/p", p) {
		t.Errorf("expired assumption still pending: %v", got)
	}

	a.assume("default/p", p, "n1")
	cache["default/p"] = pod("p", "1", "", onNode("n1"))
	if got := a.pending(lookup); len(got) != 0 {
		t.Errorf("assumption outlived the informer catching up: %v", got)
	}
	a.assume("default/p", p, "n1")
	a.forget("default/p")
	if a.has("default/p", p) {
		t.Error("forgotten assumption still there")
	}
}
