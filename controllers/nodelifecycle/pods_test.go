package nodelifecycle

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

// testPod is bound to node with a Ready condition in status ready (none
// when empty), transitioned at t0.
func testPod(name, node string, ready corev1.ConditionStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{NodeName: node}}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}
	if ready != "" {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: ready, Reason: "r", LastTransitionTime: metav1.NewTime(t0)})
	}
	return p
}

func TestPodsNotReady(t *testing.T) {
	now := t0.Add(time.Minute)
	pods := []*corev1.Pod{
		testPod("ready", "n1", corev1.ConditionTrue),
		testPod("not-ready", "n1", corev1.ConditionFalse),
		testPod("no-condition", "n1", ""),
		testPod("elsewhere", "n2", corev1.ConditionTrue),
		testPod("pending", "", corev1.ConditionTrue),
	}
	got := PodsNotReady(pods, "n1", now)
	if len(got) != 1 || got[0].Name != "ready" {
		t.Fatalf("PodsNotReady = %v, want the one Ready pod on n1", podNames(got))
	}
	ready := got[0].Status.Conditions[podConditionIndex(got[0], corev1.PodReady)]
	if ready.Status != corev1.ConditionFalse || !ready.LastTransitionTime.Equal(&metav1.Time{Time: now}) || ready.Reason != "r" {
		t.Errorf("Ready condition = %+v, want False since %v, reason kept", ready, now)
	}
	if pods[0].Status.Conditions[1].Status != corev1.ConditionTrue {
		t.Error("PodsNotReady changed its input")
	}
	if got[0].Status.Conditions[0] != pods[0].Status.Conditions[0] {
		t.Errorf("other condition changed: %+v", got[0].Status.Conditions[0])
	}
}

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// A node that stops reporting has its Ready pods marked Ready=False (its
// agent cannot say so); another node's pods are left alone.
func TestControllerMarksSilentNodesPodsNotReady(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	// n2's Lease was renewed an hour ahead: it stays fresh for the test.
	n2, n2Lease := testNode(func(n *corev1.Node) { n.Name = "n2" }), leaseAt(t0.Add(time.Hour))
	n2Lease.Name = "n2"
	client := fake.NewSimpleClientset(testNode(), leaseAt(t0), n2, n2Lease,
		testPod("on-silent", "n1", corev1.ConditionTrue), testPod("on-other", "n2", corev1.ConditionTrue))
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, Config{})
	runCtx, cancel := context.WithCancel(ctx)
	factory.Start(runCtx.Done())
	done := make(chan struct{})
	go func() { c.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })

	ready := func(name string) corev1.PodCondition {
		p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status.Conditions[podConditionIndex(p, corev1.PodReady)]
	}
	waitFor(t, "the silent node's pod to be marked not ready", func() bool {
		clk.Step(5 * time.Second) // monitor period
		return ready("on-silent").Status == corev1.ConditionFalse
	})
	if got := ready("on-silent"); got.LastTransitionTime.Time.Before(t0.Add(DefaultConfig().GracePeriod)) {
		t.Errorf("marked at %v, before the grace period", got.LastTransitionTime)
	}
	if got := ready("on-other"); got.Status != corev1.ConditionTrue {
		t.Errorf("the reporting node's pod: Ready = %+v", got)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Spec.Taints) != 0 || slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool { return c.Status == corev1.ConditionUnknown }) {
		t.Errorf("the reporting node was marked: %+v", n)
	}
}
