package replicaset

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/controllers/internal/expect"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

// A ReplicaSet gets its pods from the template, owned by it, with events;
// scaled down it deletes the surplus; its status counts them.
func TestCreateAndScale(t *testing.T) {
	h := newHarness(t, newRS("web", 3))
	eventually(t, "3 pods and their status", func() bool {
		rs := h.rs("web")
		return len(h.pods()) == 3 && rs.Status.Replicas == 3 && rs.Status.FullyLabeledReplicas == 3 && rs.Status.ObservedGeneration == 1
	})
	for _, p := range h.pods() {
		ref := metav1.GetControllerOf(&p)
		if !strings.HasPrefix(p.Name, "web-") || p.Labels["app"] != "web" || ref == nil || ref.Kind != "ReplicaSet" ||
			ref.Name != "web" || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s labels %v ref %+v", p.Name, p.Labels, ref)
		}
	}
	if ev := h.drainEvents(); len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Errorf("events %v", ev)
	}
	h.setReady(t, h.pods()[0].Name)
	eventually(t, "1 ready and available", func() bool {
		rs := h.rs("web")
		return rs.Status.ReadyReplicas == 1 && rs.Status.AvailableReplicas == 1
	})
	ready := h.pods()[0].Name
	h.scale(t, "web", 1)
	eventually(t, "1 pod left", func() bool { return len(h.pods()) == 1 && h.rs("web").Status.Replicas == 1 })
	if got := h.pods()[0].Name; got != ready {
		t.Errorf("kept %s, want the ready %s", got, ready)
	}
	if ev := h.drainEvents(); len(ev) != 2 || !strings.HasPrefix(ev[0], "Normal SuccessfulDelete Deleted pod: web-") {
		t.Errorf("events %v", ev)
	}
}

// Failed and terminating pods are not active: they are replaced.
func TestInactivePodsReplaced(t *testing.T) {
	h := newHarness(t, newRS("web", 2))
	eventually(t, "2 pods", func() bool { return len(h.pods()) == 2 })
	p := h.pods()[0]
	p.Status.Phase = corev1.PodFailed
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	q := h.pods()[1]
	now := metav1.NewTime(t0)
	q.DeletionTimestamp = &now
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, &q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "2 replacements", func() bool { return len(h.pods()) == 4 && h.rs("web").Status.Replicas == 2 })
}

// An orphan the selector matches is adopted (and not duplicated); a pod
// relabelled out of the selector is released and replaced.
func TestAdoptAndRelease(t *testing.T) {
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "stray", UID: "stray", Labels: map[string]string{"app": "web"}}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "other", UID: "other", Labels: map[string]string{"app": "db"}}}
	h := newHarness(t, orphan, other, newRS("web", 2))
	eventually(t, "stray adopted and one pod made", func() bool {
		pods := h.pods()
		if len(pods) != 3 {
			return false
		}
		for _, p := range pods {
			if p.Name == "stray" && !ownedBy(&p, "web") || p.Name == "other" && metav1.GetControllerOf(&p) != nil {
				return false
			}
		}
		return h.rs("web").Status.Replicas == 2
	})
	stray, _ := h.client.CoreV1().Pods("default").Get(h.ctx, "stray", metav1.GetOptions{})
	stray.Labels = map[string]string{"app": "gone"}
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, stray, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "stray released and replaced", func() bool {
		p, _ := h.client.CoreV1().Pods("default").Get(h.ctx, "stray", metav1.GetOptions{})
		return metav1.GetControllerOf(p) == nil && len(h.pods()) == 4 && h.rs("web").Status.Replicas == 2
	})
}

// A pod owned by another controller is never adopted.
func TestOtherOwnersPodsLeftAlone(t *testing.T) {
	owned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "theirs", UID: "theirs",
		Labels: map[string]string{"app": "web"}}}
	t1 := true
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: "x", Controller: &t1}}
	h := newHarness(t, owned, newRS("web", 1))
	eventually(t, "one pod of its own", func() bool { return len(h.pods()) == 2 && h.rs("web").Status.Replicas == 1 })
	p, _ := h.client.CoreV1().Pods("default").Get(h.ctx, "theirs", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(p); ref.UID != "x" {
		t.Errorf("owner %v", ref)
	}
}

// A refused create gives a FailedCreate event and the ReplicaFailure
// condition, which goes once creates succeed again; the refusal stops the
// slow-start batches after the first pod.
func TestFailedCreate(t *testing.T) {
	h := newHarness(t)
	var refuse atomic.Bool
	var attempts atomic.Int64
	refuse.Store(true)
	h.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if !refuse.Load() {
			return false, nil, nil
		}
		attempts.Add(1)
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("exceeded quota: q"))
	})
	if _, err := h.client.AppsV1().ReplicaSets("default").Create(h.ctx, newRS("web", 5), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ReplicaFailure", func() bool { return failure(h.rs("web")) != nil })
	c := failure(h.rs("web"))
	if c.Reason != "FailedCreate" || !strings.Contains(c.Message, "exceeded quota") {
		t.Errorf("condition %+v", c)
	}
	if ev := <-h.events.Events; !strings.HasPrefix(ev, "Warning FailedCreate Error creating: ") {
		t.Errorf("event %q", ev)
	}
	if n := attempts.Load(); n < 1 {
		t.Errorf("%d attempts", n)
	}
	refuse.Store(false)
	h.clock.Step(time.Minute) // past the rate limiter's backoff
	eventually(t, "5 pods and no failure", func() bool {
		h.clock.Step(time.Second)
		rs := h.rs("web")
		return len(h.pods()) == 5 && failure(rs) == nil && rs.Status.Replicas == 5
	})
}

func failure(rs *appsv1.ReplicaSet) *appsv1.ReplicaSetCondition {
	for i := range rs.Status.Conditions {
		if rs.Status.Conditions[i].Type == appsv1.ReplicaSetReplicaFailure {
			return &rs.Status.Conditions[i]
		}
	}
	return nil
}

// A ready pod counts available after minReadySeconds on the clock.
func TestMinReadySeconds(t *testing.T) {
	rs := newRS("web", 1)
	rs.Spec.MinReadySeconds = 10
	h := newHarness(t, rs)
	eventually(t, "a pod", func() bool { return len(h.pods()) == 1 })
	h.setReady(t, h.pods()[0].Name)
	eventually(t, "ready, not available", func() bool {
		st := h.rs("web").Status
		return st.ReadyReplicas == 1 && st.AvailableReplicas == 0
	})
	h.clock.Step(10 * time.Second)
	eventually(t, "available", func() bool { return h.rs("web").Status.AvailableReplicas == 1 })
}

// With a cache that never sees the controller's own creates, a second
// sync creates nothing until the expectations expire.
func TestExpectationsPreventDoubleCreate(t *testing.T) {
	client, c, clk, ctx := blindController(t, newRS("web", 3), Config{})
	count := func() int { return creates(client) }
	for range 3 {
		if err := c.sync(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 3 {
		t.Fatalf("%d creates, want 3", n)
	}
	clk.Step(expect.Timeout + time.Second)
	_ = c.sync(ctx, "default/web")
	if n := count(); n != 6 {
		t.Fatalf("%d creates after the expectations expired, want 6", n)
	}
}

// One sync creates at most BurstReplicas pods.
func TestBurstReplicas(t *testing.T) {
	client, c, _, ctx := blindController(t, newRS("web", 5), Config{BurstReplicas: 2})
	if err := c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := creates(client); n != 2 {
		t.Fatalf("%d creates, want 2", n)
	}
}

func creates(client *fake.Clientset) int {
	n := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "pods" {
			n++
		}
	}
	return n
}

// blindController is a controller whose informers read another fake than
// the one it writes to: its cache never sees its own writes.
func blindController(t *testing.T, rs *appsv1.ReplicaSet, cfg Config) (*fake.Clientset, *Controller, *clocktesting.FakeClock, context.Context) {
	t.Helper()
	cacheSource := fake.NewClientset(rs)
	client := fake.NewClientset(rs)
	nameGeneratedPods(client)
	factory := informers.NewSharedInformerFactory(cacheSource, 0)
	clk := clocktesting.NewFakeClock(t0)
	c := New(client, factory, record.NewFakeRecorder(100), slog.New(slog.NewTextHandler(io.Discard, nil)), clk, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); c.queue.ShutDown(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return client, c, clk, ctx
}

func TestSlowStart(t *testing.T) {
	var calls atomic.Int64
	done, err := SlowStart(10, 1, func() error {
		if calls.Add(1) == 4 {
			return errors.New("refused")
		}
		return nil
	})
	// Batches of 1, 2, then 4 with one failure: 7 calls, 6 done.
	if err == nil || done != 6 || calls.Load() != 7 {
		t.Errorf("done %d calls %d err %v", done, calls.Load(), err)
	}
	calls.Store(0)
	if done, err := SlowStart(10, 1, func() error { calls.Add(1); return nil }); done != 10 || err != nil || calls.Load() != 10 {
		t.Errorf("done %d err %v", done, err)
	}
}
