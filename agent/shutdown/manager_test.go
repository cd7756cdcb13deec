package shutdown

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

func testPod(name string, prio int32, grace int64) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{Priority: &prio, TerminationGracePeriodSeconds: &grace}}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// Ordinary pods (below system-cluster-critical, negative ones too) go
// first with the rest of the period; critical pods last with theirs.
func TestGroups(t *testing.T) {
	pods := []*corev1.Pod{testPod("web", 0, 30), testPod("node-critical", 2000001000, 30), testPod("batch", -10, 30),
		testPod("high", 1000000000, 30), testPod("cluster-critical", 2000000000, 30), {ObjectMeta: metav1.ObjectMeta{Name: "unset"}}}
	g := Groups(pods, 30*time.Second, 10*time.Second)
	if len(g) != 2 || g[0].Grace != 20*time.Second || g[1].Grace != 10*time.Second {
		t.Fatalf("groups %+v", g)
	}
	if got := names(g[0].Pods); !slices.Equal(got, []string{"web", "batch", "high", "unset"}) {
		t.Errorf("ordinary group %v", got)
	}
	if got := names(g[1].Pods); !slices.Equal(got, []string{"node-critical", "cluster-critical"}) {
		t.Errorf("critical group %v", got)
	}
	if got := PodGrace(testPod("quick", 0, 5), 20*time.Second); got != 5*time.Second {
		t.Errorf("a pod's shorter grace: %s", got)
	}
	if got := PodGrace(testPod("slow", 0, 60), 20*time.Second); got != 20*time.Second {
		t.Errorf("a pod's longer grace: %s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{GracePeriod: time.Second, GracePeriodCriticalPods: 2 * time.Second}).Validate(); err == nil {
		t.Error("critical period above the total accepted")
	}
	if err := (Config{GracePeriod: -time.Second}).Validate(); err == nil {
		t.Error("negative period accepted")
	}
	if (Config{}).Enabled() || (Config{}).Validate() != nil {
		t.Error("zero config is not off and valid")
	}
}

// fakePods records what was terminated, in which order, with which grace
// and status; a pod named "stuck" never stops.
type fakePods struct {
	mu         sync.Mutex
	pods       []*corev1.Pod
	terminated []string
	graces     map[string]time.Duration
	statuses   map[string]corev1.PodStatus
	deadlines  map[string]bool
}

func (f *fakePods) ActivePods() []*corev1.Pod { return f.pods }

func (f *fakePods) TerminatePod(ctx context.Context, pod *corev1.Pod, grace time.Duration, status func(*corev1.PodStatus)) error {
	s := pod.Status
	status(&s)
	if pod.Name == "stuck" {
		<-ctx.Done()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminated = append(f.terminated, pod.Name)
	f.graces[pod.Name], f.statuses[pod.Name] = grace, s
	_, f.deadlines[pod.Name] = ctx.Deadline()
	return ctx.Err()
}

// On PrepareForShutdown(true) the node says it is shutting down, ordinary
// pods are terminated before critical ones, each with its group's grace
// (or its own, shorter) and kubelet's status; a pod that does not stop is
// left at its group's deadline; then the lock goes. A cancelled shutdown
// takes the lock again.
func TestShutdown(t *testing.T) {
	pods := &fakePods{pods: []*corev1.Pod{testPod("critical", 2000000000, 30), testPod("web", 0, 30),
		testPod("stuck", 5, 30), testPod("quick", 0, 0)},
		graces: map[string]time.Duration{}, statuses: map[string]corev1.PodStatus{}, deadlines: map[string]bool{}}
	logind := NewFake(time.Minute)
	clk := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	m := New(Config{GracePeriod: 300 * time.Millisecond, GracePeriodCriticalPods: 100 * time.Millisecond}, logind, pods, clk,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	<-logind.Subscribed
	if held, _ := logind.Held(); held != 1 || m.ShuttingDown() {
		t.Fatalf("before shutdown: %d locks held, shutting down %v", held, m.ShuttingDown())
	}
	logind.Announce(true)
	<-logind.Released
	if !m.ShuttingDown() {
		t.Error("not shutting down")
	}
	pods.mu.Lock()
	if last := pods.terminated[len(pods.terminated)-1]; last != "critical" || len(pods.terminated) != 4 {
		t.Errorf("terminated %v, want the critical pod last", pods.terminated)
	}
	want := map[string]time.Duration{"web": 200 * time.Millisecond, "stuck": 200 * time.Millisecond, "quick": 0, "critical": 100 * time.Millisecond}
	for name, g := range want {
		if pods.graces[name] != g || !pods.deadlines[name] {
			t.Errorf("%s: grace %s (want %s), deadline %v", name, pods.graces[name], g, pods.deadlines[name])
		}
	}
	s := pods.statuses["web"]
	if s.Phase != corev1.PodFailed || s.Reason != "Terminated" || s.Message != "Pod was terminated in response to imminent node shutdown." ||
		len(s.Conditions) != 1 || s.Conditions[0].Type != corev1.DisruptionTarget || s.Conditions[0].Reason != "TerminationByKubelet" {
		t.Errorf("status %+v", s)
	}
	pods.mu.Unlock()
	logind.Announce(false)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if held, taken := logind.Held(); held != 0 || taken != 2 || m.ShuttingDown() {
		t.Errorf("after a cancelled shutdown and the end: %d held, %d taken, shutting down %v", held, taken, m.ShuttingDown())
	}
}
