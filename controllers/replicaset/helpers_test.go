package replicaset

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/controllers/internal/fakestatus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Unix(1_000_000, 0)

type harness struct {
	client *fake.Clientset
	events *record.FakeRecorder
	clock  *clocktesting.FakeClock
	ctrl   *Controller
	ctx    context.Context
}

// newHarness is a controller on a fake clientset that names generated
// pods (the fake does not) and gives every object a UID.
func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	nameGeneratedPods(client)
	// Status writes change only the status, and a write from a stale copy
	// is refused, as by the API server: the fake's whole-object status
	// write from the cache could undo a scale made meanwhile.
	fakestatus.Install(client, appsv1.SchemeGroupVersion.WithResource("replicasets"),
		func(stored, sent *appsv1.ReplicaSet) { stored.Status = sent.Status })
	h := &harness{client: client, events: record.NewFakeRecorder(1000), clock: clocktesting.NewFakeClock(t0)}
	factory := informers.NewSharedInformerFactory(client, 0)
	h.ctrl = New(client, factory, h.events, slog.New(slog.NewTextHandler(io.Discard, nil)), h.clock, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { h.ctrl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return h
}

// nameGeneratedPods makes the fake name pods created with generateName
// (as the API server does) and give them a UID.
func nameGeneratedPods(client *fake.Clientset) {
	var n atomic.Int64
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			i := n.Add(1)
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, i)
			p.UID = types.UID(fmt.Sprintf("uid-%d", i))
		}
		return false, nil, nil
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func newRS(name string, n int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("rs-" + name), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}}}},
	}
}

// pods lists the namespace's pods (from the fake's store, not a cache).
func (h *harness) pods() []corev1.Pod {
	l, _ := h.client.CoreV1().Pods("default").List(h.ctx, metav1.ListOptions{})
	return l.Items
}

func (h *harness) rs(name string) *appsv1.ReplicaSet {
	rs, _ := h.client.AppsV1().ReplicaSets("default").Get(h.ctx, name, metav1.GetOptions{})
	return rs
}

func (h *harness) scale(t *testing.T, name string, n int32) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		rs := h.rs(name)
		rs.Spec.Replicas = &n
		rs.Generation++
		_, err := h.client.AppsV1().ReplicaSets("default").Update(h.ctx, rs, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setReady marks a pod Running and Ready (since the fake clock's now).
func (h *harness) setReady(t *testing.T, name string) {
	t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.NodeName = "n1"
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(h.clock.Now())}}
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func ownedBy(p *corev1.Pod, rs string) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == types.UID("rs-"+rs)
}
