package podgc

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pod(name, node string, phase corev1.PodPhase, age time.Duration) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(t0.Add(-age))},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
}

func node(name string, ready bool, taints ...corev1.Taint) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
}

func terminating(p *corev1.Pod) *corev1.Pod {
	now := metav1.NewTime(t0)
	p.DeletionTimestamp = &now
	return p
}

type fixture struct {
	c      *Controller
	client *fake.Clientset
	clock  *clocktesting.FakeClock
}

func newFixture(t *testing.T, cfg Config, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	c := New(client, factory, slog.New(slog.NewTextHandler(io.Discard, nil)), clk, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		c.queue.ShutDown()
		factory.Shutdown()
	})
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		t.Fatal("informers did not sync")
	}
	client.ClearActions()
	return &fixture{c: c, client: client, clock: clk}
}

// deleted are the pods deleted, in order; each delete must be forced
// (grace 0) with the pod's UID as precondition.
func (f *fixture) deleted(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, a := range f.client.Actions() {
		d, ok := a.(clienttesting.DeleteActionImpl)
		if !ok || d.Resource.Resource != "pods" {
			continue
		}
		o := d.DeleteOptions
		if o.GracePeriodSeconds == nil || *o.GracePeriodSeconds != 0 || o.Preconditions == nil || *o.Preconditions.UID != types.UID("uid-"+d.Name) {
			t.Fatalf("delete %s with %+v, want grace 0 and its UID", d.Name, o)
		}
		out = append(out, d.Name)
	}
	return out
}

// Terminated pods above the threshold go, evicted ones first, then the
// oldest; running pods never count.
func TestTerminatedAboveThresholdOldestFirst(t *testing.T) {
	evictedPod := pod("evicted", "n1", corev1.PodFailed, time.Minute)
	evictedPod.Status.Reason = "Evicted"
	f := newFixture(t, Config{TerminatedPodThreshold: 2}, node("n1", true),
		pod("old", "n1", corev1.PodSucceeded, 3*time.Hour), pod("mid", "n1", corev1.PodFailed, 2*time.Hour),
		pod("new", "n1", corev1.PodSucceeded, time.Hour), evictedPod,
		pod("running", "n1", corev1.PodRunning, 9*time.Hour))
	f.c.gc(context.Background())
	if got := f.deleted(t); !slices.Equal(got, []string{"evicted", "old"}) {
		t.Fatalf("deleted %v, want [evicted old]", got)
	}
}

func TestTerminatedAtThresholdOrDisabledKept(t *testing.T) {
	for _, threshold := range []int{2, -1} {
		f := newFixture(t, Config{TerminatedPodThreshold: threshold}, node("n1", true),
			pod("a", "n1", corev1.PodSucceeded, time.Hour), pod("b", "n1", corev1.PodFailed, time.Hour))
		f.c.gc(context.Background())
		if got := f.deleted(t); len(got) != 0 {
			t.Fatalf("threshold %d: deleted %v", threshold, got)
		}
	}
	if got := (Config{}).withDefaults().TerminatedPodThreshold; got != 12500 {
		t.Fatalf("default threshold %d, want kube's 12500", got)
	}
}

// A terminating pod that no node ever ran is force-deleted, after being
// marked Failed; one on a node is left to its node.
func TestUnscheduledTerminatingDeleted(t *testing.T) {
	f := newFixture(t, Config{}, node("n1", true),
		terminating(pod("unscheduled", "", corev1.PodPending, time.Minute)),
		terminating(pod("on-node", "n1", corev1.PodRunning, time.Minute)))
	f.c.gc(context.Background())
	if got := f.deleted(t); !slices.Equal(got, []string{"unscheduled"}) {
		t.Fatalf("deleted %v", got)
	}
	if p := f.updatedStatus(t, "unscheduled"); p.Status.Phase != corev1.PodFailed {
		t.Fatalf("phase %s, want Failed before the delete", p.Status.Phase)
	}
}

func (f *fixture) updatedStatus(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	for _, a := range f.client.Actions() {
		if u, ok := a.(clienttesting.UpdateActionImpl); ok && u.Subresource == "status" {
			if p := u.Object.(*corev1.Pod); p.Name == name {
				return p
			}
		}
	}
	t.Fatalf("no status update of %s", name)
	return nil
}

// Terminating pods on a NotReady node tainted out-of-service go.
func TestTerminatingOnOutOfServiceNode(t *testing.T) {
	oos := corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}
	f := newFixture(t, Config{}, node("down", false, oos), node("up", true, oos), node("notready", false),
		terminating(pod("a", "down", corev1.PodRunning, time.Minute)),
		pod("b", "down", corev1.PodRunning, time.Minute),
		terminating(pod("c", "up", corev1.PodRunning, time.Minute)),
		terminating(pod("d", "notready", corev1.PodRunning, time.Minute)))
	f.c.gc(context.Background())
	if got := f.deleted(t); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("deleted %v, want [a]", got)
	}
}

// Pods bound to a node that does not exist go after the quarantine, once
// a GET confirms the node is gone, marked Failed with kube's condition.
func TestOrphanedPodsAfterQuarantine(t *testing.T) {
	f := newFixture(t, Config{}, node("n1", true),
		pod("orphan", "gone", corev1.PodRunning, time.Minute), pod("done", "gone", corev1.PodSucceeded, time.Minute),
		pod("fine", "n1", corev1.PodRunning, time.Minute))
	ctx := context.Background()
	f.c.gc(ctx)
	if f.c.queue.Len() != 0 {
		t.Fatal("node queued before the quarantine")
	}
	f.clock.Step(39 * time.Second)
	if f.c.queue.Len() != 0 {
		t.Fatal("node queued before the quarantine")
	}
	f.clock.Step(time.Second)
	f.waitQueued(t, 1)
	name, _ := f.c.queue.Get()
	if err := f.c.syncNode(ctx, name); err != nil {
		t.Fatal(err)
	}
	f.c.queue.Done(name)
	got := f.deleted(t)
	slices.Sort(got)
	if !slices.Equal(got, []string{"done", "orphan"}) {
		t.Fatalf("deleted %v", got)
	}
	p := f.updatedStatus(t, "orphan")
	want := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByPodGC",
		Message: "PodGC: node no longer exists", LastTransitionTime: metav1.NewTime(f.clock.Now())}
	if p.Status.Phase != corev1.PodFailed || len(p.Status.Conditions) != 1 || p.Status.Conditions[0] != want {
		t.Fatalf("status %+v", p.Status)
	}
}

// A node that is back (or was only missing from the cache) keeps its pods.
func TestOrphanCheckSeesNodeLive(t *testing.T) {
	f := newFixture(t, Config{}, pod("p", "late", corev1.PodRunning, time.Minute))
	if _, err := f.client.CoreV1().Nodes().Create(context.Background(), node("late", true), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.c.syncNode(context.Background(), "late"); err != nil {
		t.Fatal(err)
	}
	if got := f.deleted(t); len(got) != 0 {
		t.Fatalf("deleted %v", got)
	}
}

func (f *fixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return f.c.queue.Len() == n, nil
	})
	if err != nil {
		t.Fatalf("queue length %d, want %d", f.c.queue.Len(), n)
	}
}
