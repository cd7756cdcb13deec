package deployment

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Unix(1_000_000, 0)

// harness drives the controller one sync at a time: the test plays the
// ReplicaSet controller and the kubelet (simulate), waits for the
// informers to show every write, and syncs.
type harness struct {
	t      *testing.T
	client *fake.Clientset
	events *record.FakeRecorder
	clock  *clocktesting.FakeClock
	ctrl   *Controller
	ctx    context.Context
	// ready is how many pods of each ReplicaSet (by name) are ready; a
	// ReplicaSet not listed has all its pods ready.
	ready map[string]int32
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	stampCreatedSets(client)
	h := &harness{t: t, client: client, events: record.NewFakeRecorder(1000), clock: clocktesting.NewFakeClock(t0), ready: map[string]int32{}}
	factory := informers.NewSharedInformerFactory(client, 0)
	h.ctrl = New(client, factory, h.events, slog.New(slog.NewTextHandler(io.Discard, nil)), h.clock, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	t.Cleanup(func() { cancel(); h.ctrl.queue.ShutDown(); factory.Shutdown() })
	return h
}

func newDeployment(name string, n int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	deadline, history := int32(600), int32(10)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("d-" + name), Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}}},
			Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			ProgressDeadlineSeconds: &deadline, RevisionHistoryLimit: &history},
	}
}

func rolling(d *appsv1.Deployment, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}
	return d
}

func (h *harness) deployment(name string) *appsv1.Deployment {
	d, err := h.client.AppsV1().Deployments("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// edit changes a Deployment's spec as the API server would (generation+1).
func (h *harness) edit(name string, change func(*appsv1.Deployment)) {
	h.t.Helper()
	d := h.deployment(name)
	change(d)
	d.Generation++
	if _, err := h.client.AppsV1().Deployments("default").Update(h.ctx, d, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// sets lists the ReplicaSets oldest first.
func (h *harness) sets() []appsv1.ReplicaSet {
	l, err := h.client.AppsV1().ReplicaSets("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	sort.SliceStable(l.Items, func(i, j int) bool { return l.Items[i].CreationTimestamp.Before(&l.Items[j].CreationTimestamp) })
	return l.Items
}

// simulate plays the ReplicaSet controller: each ReplicaSet has
// spec.replicas pods, h.ready[name] of them ready and available.
func (h *harness) simulate() {
	h.t.Helper()
	for _, rs := range h.sets() {
		n := rsReplicas(&rs)
		ready := n
		if r, ok := h.ready[rs.Name]; ok {
			ready = min(r, n)
		}
		st := appsv1.ReplicaSetStatus{Replicas: n, FullyLabeledReplicas: n, ReadyReplicas: ready, AvailableReplicas: ready,
			ObservedGeneration: rs.Generation, Conditions: rs.Status.Conditions}
		if apiequality.Semantic.DeepEqual(rs.Status, st) {
			continue
		}
		rs.Status = st
		if _, err := h.client.AppsV1().ReplicaSets("default").UpdateStatus(h.ctx, &rs, metav1.UpdateOptions{}); err != nil {
			h.t.Fatal(err)
		}
	}
}

// caughtUp waits until the informers show what the fake stores.
func (h *harness) caughtUp() {
	h.t.Helper()
	err := wait.PollUntilContextTimeout(h.ctx, time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		sets := h.sets()
		cached, _ := h.ctrl.sets.ReplicaSets("default").List(everything())
		if len(cached) != len(sets) {
			return false, nil
		}
		for _, rs := range sets {
			c, err := h.ctrl.sets.ReplicaSets("default").Get(rs.Name)
			if err != nil || !apiequality.Semantic.DeepEqual(c, &rs) {
				return false, nil
			}
		}
		ds, _ := h.client.AppsV1().Deployments("default").List(h.ctx, metav1.ListOptions{})
		for _, d := range ds.Items {
			c, err := h.ctrl.deployments.Deployments("default").Get(d.Name)
			if err != nil || !apiequality.Semantic.DeepEqual(c, &d) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		h.t.Fatal("informers did not catch up")
	}
}

// step simulates the ReplicaSets, then syncs the Deployment once.
func (h *harness) step(name string) {
	h.t.Helper()
	h.simulate()
	h.caughtUp()
	if err := h.ctrl.sync(h.ctx, "default/"+name); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	h.caughtUp()
}

// sizes is "name=spec/available ..." of the ReplicaSets, oldest first.
func (h *harness) sizes() string {
	var s string
	for _, rs := range h.sets() {
		s += fmt.Sprintf("%s=%d/%d ", rs.Name, rsReplicas(&rs), rs.Status.AvailableReplicas)
	}
	return s
}

// rolloutStatus is kubectl rollout status's verdict on the Deployment.
func kubectlRolloutStatus(d *appsv1.Deployment) (string, bool) {
	if d.Generation > d.Status.ObservedGeneration {
		return "waiting for the rollout to be observed", false
	}
	if c := condition(d.Status, appsv1.DeploymentProgressing); c != nil && c.Reason == TimedOutReason {
		return "exceeded its progress deadline", true
	}
	switch st := d.Status; {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated", st.UpdatedReplicas, *d.Spec.Replicas), false
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas are pending termination", st.Replicas-st.UpdatedReplicas), false
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas are available", st.AvailableReplicas, st.UpdatedReplicas), false
	}
	return "successfully rolled out", true
}

func everything() labels.Selector { return labels.Everything() }

// stampCreatedSets makes the fake give created ReplicaSets a UID and a
// creation time a second after the last one (the fake sets neither).
func stampCreatedSets(client *fake.Clientset) {
	var n atomic.Int64
	client.PrependReactor("create", "replicasets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		rs := a.(k8stesting.CreateAction).GetObject().(*appsv1.ReplicaSet)
		i := n.Add(1)
		if rs.UID == "" {
			rs.UID = types.UID(fmt.Sprintf("rs-uid-%d", i))
		}
		if rs.CreationTimestamp.IsZero() {
			rs.CreationTimestamp = metav1.NewTime(t0.Add(time.Duration(i) * time.Second))
		}
		return false, nil, nil
	})
}

// settle steps until the rollout is complete by kubectl's rules.
func (h *harness) settle(name string) {
	h.t.Helper()
	for range 100 {
		h.step(name)
		if msg, done := kubectlRolloutStatus(h.deployment(name)); done {
			if msg != "successfully rolled out" {
				h.t.Fatalf("rollout: %s", msg)
			}
			return
		}
	}
	h.t.Fatalf("rollout did not finish: %s", h.sizes())
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatal("timed out")
	}
}
