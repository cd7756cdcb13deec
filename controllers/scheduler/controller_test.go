package scheduler

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// harness runs a scheduler against a fake clientset and a fake clock.
type harness struct {
	client *fake.Clientset
	clock  *clocktesting.FakeClock
}

// start runs the scheduler; reactors are installed first, the last one
// given running first.
func start(t *testing.T, persistBindings bool, reactors []k8stesting.ReactionFunc, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{client: fake.NewSimpleClientset(objs...), clock: clocktesting.NewFakeClock(time.Unix(1_000_000, 0))}
	if persistBindings {
		h.client.PrependReactor("create", "pods", h.bindReactor)
	}
	for _, r := range reactors {
		h.client.PrependReactor("create", "pods", r)
	}
	factory := informers.NewSharedInformerFactory(h.client, 0)
	c := New(h.client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), h.clock, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return h
}

// bindReactor does what the API server does for pods/binding: it sets
// spec.nodeName (the plain fake does not persist bindings).
func (h *harness) bindReactor(action k8stesting.Action) (bool, runtime.Object, error) {
	create, ok := action.(k8stesting.CreateAction)
	if !ok || action.GetSubresource() != "binding" {
		return false, nil, nil
	}
	b := create.GetObject().(*corev1.Binding)
	obj, err := h.client.Tracker().Get(action.GetResource(), b.Namespace, b.Name)
	if err != nil {
		return true, nil, err
	}
	p := obj.(*corev1.Pod).DeepCopy()
	p.Spec.NodeName = b.Target.Name
	return true, b, h.client.Tracker().Update(action.GetResource(), p, b.Namespace)
}

// bindings lists "pod->node" for every binding posted, in order.
func (h *harness) bindings() []string {
	var out []string
	for _, a := range h.client.Actions() {
		if c, ok := a.(k8stesting.CreateAction); ok && a.GetSubresource() == "binding" {
			b := c.GetObject().(*corev1.Binding)
			out = append(out, b.Name+"->"+b.Target.Name)
		}
	}
	return out
}

// statusUpdates returns the pods written through pods/status.
func (h *harness) statusUpdates() []*corev1.Pod {
	var out []*corev1.Pod
	for _, a := range h.client.Actions() {
		if u, ok := a.(k8stesting.UpdateAction); ok && a.GetSubresource() == "status" {
			out = append(out, u.GetObject().(*corev1.Pod))
		}
	}
	return out
}

func (h *harness) events(t *testing.T) map[string][]string {
	t.Helper()
	l, err := h.client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range l.Items {
		out[e.Reason] = append(out[e.Reason], e.Message)
	}
	return out
}

// waitFor polls cond (reading the fake's recorded state) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func twoCPUNode(name string) *corev1.Node {
	return node(name, func(n *corev1.Node) { n.Status.Allocatable = resources("2", "4Gi", "", "110") })
}

// Two pods that do not fit one node together: one is bound, the other is
// marked unschedulable (the first counts even before the informer shows it
// bound), then bound when a second node appears.
func TestControllerBindsAndRetriesOnNewNode(t *testing.T) {
	h := start(t, true, nil, twoCPUNode("n1"), pod("p1", "1500m", ""), pod("p2", "1500m", ""))
	waitFor(t, "one binding and one unschedulable pod", func() bool {
		return len(h.bindings()) == 1 && len(h.statusUpdates()) == 1
	})
	loser := h.statusUpdates()[0]
	cond := loser.Status.Conditions[0]
	if cond.Type != corev1.PodScheduled || cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable ||
		cond.Message != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Errorf("condition = %+v", cond)
	}
	winner := map[string]string{"p1": "p2", "p2": "p1"}[loser.Name]
	if got := h.bindings()[0]; got != winner+"->n1" {
		t.Errorf("binding = %s, want %s->n1", got, winner)
	}

	if _, err := h.client.CoreV1().Nodes().Create(context.Background(), twoCPUNode("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second pod bound to the new node", func() bool { return len(h.bindings()) == 2 })
	if got := h.bindings()[1]; got != loser.Name+"->n2" {
		t.Errorf("second binding = %s, want %s->n2", got, loser.Name)
	}
	waitFor(t, "events", func() bool { return len(h.events(t)[ReasonScheduled]) == 2 })
	ev := h.events(t)
	if !slices.Contains(ev[ReasonScheduled], "Successfully assigned default/"+loser.Name+" to n2") ||
		!slices.Equal(ev[ReasonFailedScheduling], []string{"0/1 nodes are available: 1 Insufficient cpu."}) {
		t.Errorf("events = %v", ev)
	}
}

// A binding the informer never shows (the plain fake does not persist it)
// stops counting after AssumeTTL, and the periodic resync, driven by the
// fake clock, tries the pending pods again.
func TestControllerResyncAfterAssumeExpires(t *testing.T) {
	h := start(t, false, nil, twoCPUNode("n1"), pod("p1", "1500m", ""), pod("p2", "1500m", ""))
	waitFor(t, "one binding and one unschedulable pod", func() bool {
		return len(h.bindings()) == 1 && len(h.statusUpdates()) == 1
	})
	waitFor(t, "the resync to bind again", func() bool {
		h.clock.Step(31 * time.Second)
		return len(h.bindings()) == 2
	})
}

// A failed binding is retried after the work queue's backoff, which runs
// on the injected clock.
func TestControllerRetriesFailedBinding(t *testing.T) {
	failed := false // reactors run under the fake's lock
	failOnce := func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" || failed {
			return false, nil, nil
		}
		failed = true
		return true, nil, apierrors.NewServiceUnavailable("etcd is busy")
	}
	h := start(t, true, []k8stesting.ReactionFunc{failOnce}, twoCPUNode("n1"), pod("p1", "1", ""))
	waitFor(t, "the binding to be retried", func() bool {
		h.clock.Step(time.Second)
		return len(h.bindings()) == 2
	})
	if b := h.bindings(); b[1] != "p1->n1" {
		t.Errorf("bindings = %v", b)
	}
}

// A bound pod that goes frees its room: the pending pods are tried again
// at once (through the index of unbound pods), not at the next resync.
func TestControllerRetriesWhenABoundPodGoes(t *testing.T) {
	h := start(t, true, nil, twoCPUNode("n1"), pod("old", "1500m", "", onNode("n1")), pod("new", "1500m", ""))
	waitFor(t, "the new pod unschedulable", func() bool { return len(h.statusUpdates()) == 1 })
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new pod bound where the old one was", func() bool {
		return slices.Equal(h.bindings(), []string{"new->n1"})
	})
}

func TestUnboundPodsIndex(t *testing.T) {
	for _, tc := range []struct {
		obj  any
		want []string
	}{
		{pod("p", "1", ""), []string{""}},
		{pod("p", "1", "", onNode("n1")), nil},
		{&corev1.Node{}, nil},
	} {
		got, err := unboundPods(tc.obj)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("unboundPods(%T) = %q, %v; want %q", tc.obj, got, err, tc.want)
		}
	}
}
