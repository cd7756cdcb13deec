package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

	"github.com/nodeagent/nodeagent/controllers/internal/fakestatus"
	"github.com/nodeagent/nodeagent/controllers/internal/revision"
	"github.com/nodeagent/nodeagent/internal/syncbuf"
)

type harness struct {
	client *fake.Clientset
	events *record.FakeRecorder
	logs   *syncbuf.Buffer
	clock  *clocktesting.FakeClock
	ctx    context.Context
}

// start runs the controller on a fake clientset holding objs; created
// pods get a name, a UID and a creation time, as the API server gives.
func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	return startWith(t, nil, objs...)
}

// startWith is start with setup (if any) called on the clientset before
// the controller runs.
func startWith(t *testing.T, setup func(*fake.Clientset), objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	clk := clocktesting.NewFakeClock(t0)
	var n atomic.Int64
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		p := action.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		i := n.Add(1)
		p.Name = fmt.Sprintf("%s%05d", p.GenerateName, i)
		p.UID = types.UID(fmt.Sprintf("pod-uid-%d", i))
		p.CreationTimestamp = metav1.NewTime(clk.Now())
		return false, nil, nil
	})
	fakestatus.Install(client, appsv1.SchemeGroupVersion.WithResource("daemonsets"),
		func(stored, sent *appsv1.DaemonSet) { stored.Status = sent.Status })
	factory := informers.NewSharedInformerFactory(client, 0)
	if setup != nil {
		setup(client)
	}
	events, logs := record.NewFakeRecorder(1000), &syncbuf.Buffer{}
	c := New(client, factory, events, slog.New(slog.NewTextHandler(logs, nil)), clk)
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return &harness{client: client, events: events, logs: logs, clock: clk, ctx: ctx}
}

// waitEvent waits for an event with the given text, "Type Reason message".
func (h *harness) waitEvent(t *testing.T, want string) {
	t.Helper()
	var seen []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-h.events.Events:
			if e == want {
				return
			}
			seen = append(seen, e)
		case <-deadline:
			t.Fatalf("no event %q; saw %q", want, seen)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) pods(t *testing.T) []corev1.Pod {
	t.Helper()
	l, err := h.client.CoreV1().Pods("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func (h *harness) ds(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	ds, err := h.client.AppsV1().DaemonSets("default").Get(h.ctx, "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// update changes the DaemonSet's spec and generation, as a user's write
// does (again on a conflict with the controller's status write).
func (h *harness) update(t *testing.T, change func(*appsv1.DaemonSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds := h.ds(t)
		change(ds)
		ds.Generation++
		_, err := h.client.AppsV1().DaemonSets("default").Update(h.ctx, ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) revisions(t *testing.T) map[string]int64 {
	t.Helper()
	l, err := h.client.AppsV1().ControllerRevisions("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range l.Items {
		out[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = r.Revision
	}
	return out
}

// runAll binds every pending daemon pod to its node and makes it Running
// and Ready, as the scheduler and the kubelet would.
func (h *harness) runAll(t *testing.T) {
	t.Helper()
	for _, p := range h.pods(t) {
		if podReady(&p) {
			continue
		}
		node, err := targetNode(&p)
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.NodeName = node
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(h.clock.Now())}}
		if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, &p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// podsByNode maps node -> hash labels of its pods.
func (h *harness) podsByNode(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, p := range h.pods(t) {
		node, _ := targetNode(&p)
		out[node] = append(out[node], p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
	}
	return out
}

func TestDaemonSetRolloutAndStatus(t *testing.T) {
	h := start(t, testDS(), testNode("n1"), testNode("n2"), testNode("n3", taint("gpu", corev1.TaintEffectNoSchedule)))
	waitFor(t, "a pod on n1 and n2", func() bool { return len(h.pods(t)) == 2 })
	revs := h.revisions(t)
	if len(revs) != 1 {
		t.Fatalf("revisions %v", revs)
	}
	var h1 string
	for hash, n := range revs {
		h1 = hash
		if n != 1 {
			t.Errorf("first revision is number %d", n)
		}
	}
	if got := h.podsByNode(t); !slices.Equal(got["n1"], []string{h1}) || !slices.Equal(got["n2"], []string{h1}) {
		t.Fatalf("pods by node %v", got)
	}
	waitFor(t, "status of scheduled pods", func() bool {
		st := h.ds(t).Status
		return st.DesiredNumberScheduled == 2 && st.CurrentNumberScheduled == 2 && st.UpdatedNumberScheduled == 2 && st.NumberReady == 0 && st.ObservedGeneration == 1
	})
	h.runAll(t)
	waitFor(t, "status of ready pods", func() bool {
		st := h.ds(t).Status
		return st.NumberReady == 2 && st.NumberAvailable == 2 && st.NumberUnavailable == 0
	})

	h.update(t, image("img:v2"))
	waitFor(t, "a second revision", func() bool { return len(h.revisions(t)) == 2 })
	var h2 string
	for hash, n := range h.revisions(t) {
		if hash != h1 {
			h2 = hash
			if n != 2 {
				t.Errorf("second revision is number %d", n)
			}
		}
	}
	// One node at a time: never both old pods gone while the new one is not ready.
	for step := 0; step < 2; step++ {
		waitFor(t, "one more new pod", func() bool {
			n := 0
			for _, hashes := range h.podsByNode(t) {
				if slices.Equal(hashes, []string{h2}) {
					n++
				}
			}
			return n == step+1
		})
		if got := h.podsByNode(t); len(got["n1"])+len(got["n2"]) != 2 {
			t.Fatalf("step %d: pods by node %v", step, got)
		}
		h.runAll(t)
	}
	waitFor(t, "the rollout's status", func() bool {
		st := h.ds(t).Status
		return st.UpdatedNumberScheduled == 2 && st.NumberAvailable == 2 && st.ObservedGeneration == 2
	})
}

func TestFailedPodIsReplaced(t *testing.T) {
	h := start(t, testDS(), testNode("n1"))
	waitFor(t, "a pod", func() bool { return len(h.pods(t)) == 1 })
	p := h.pods(t)[0]
	h.waitEvent(t, "Normal SuccessfulCreate Created pod: "+p.Name)
	p.Status.Phase = corev1.PodFailed
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new pod", func() bool {
		pods := h.pods(t)
		return len(pods) == 1 && pods[0].Name != p.Name && pods[0].Status.Phase == ""
	})
	h.waitEvent(t, "Warning FailedDaemonPod Found failed daemon pod default/"+p.Name+" on node n1, will try to kill it")
	h.waitEvent(t, "Normal SuccessfulDelete Deleted pod: "+p.Name)
}

func TestNodeChangesMovePods(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "edge"} })
	h := start(t, ds, testNode("n1"), testNode("n2", label("role", "edge")))
	waitFor(t, "a pod on n2", func() bool { got := h.podsByNode(t); return len(got) == 1 && len(got["n2"]) == 1 })
	n1, n2 := testNode("n1", label("role", "edge")), testNode("n2", taint("maintenance", corev1.TaintEffectNoExecute))
	n2.Labels["role"] = "edge"
	for _, n := range []*corev1.Node{n1, n2} {
		if _, err := h.client.CoreV1().Nodes().Update(h.ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the pod moved to n1", func() bool { got := h.podsByNode(t); return len(got) == 1 && len(got["n1"]) == 1 })
}

func TestRollbackReusesRevisionAndOldRevisionsAreCleanedUp(t *testing.T) {
	limit := func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = ptr(int32(1)) }
	h := start(t, testDS(limit), testNode("n1"))
	waitFor(t, "a pod", func() bool { return len(h.pods(t)) == 1 })
	h1 := h.pods(t)[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	h.runAll(t)
	for gen, img := range []string{"img:v2", "img:v3", "img:v1"} {
		h.update(t, image(img))
		waitFor(t, img+" rolled out", func() bool {
			pods := h.pods(t)
			return len(pods) == 1 && pods[0].Spec.Containers[0].Image == img && h.ds(t).Status.ObservedGeneration == int64(gen+2)
		})
		h.runAll(t)
		waitFor(t, img+" ready", func() bool { return h.ds(t).Status.NumberAvailable == 1 })
	}
	// v1's revision is number 4 now (no new one was made for it), and
	// with a limit of 1 only v3's stays beside it.
	waitFor(t, "two revisions, v1's renumbered", func() bool {
		revs := h.revisions(t)
		return len(revs) == 2 && revs[h1] == 4 && h.pods(t)[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == h1
	})
}

func TestOrphansAreAdoptedAndMismatchesReleased(t *testing.T) {
	ds := testDS()
	orphan := daemonPod(ds, "n1", "old", true)
	orphan.OwnerReferences = nil
	h := start(t, ds, testNode("n1"), testNode("n2"), orphan)
	waitFor(t, "the orphan adopted and a pod on n2", func() bool {
		got := h.podsByNode(t)
		p, err := h.client.CoreV1().Pods("default").Get(h.ctx, orphan.Name, metav1.GetOptions{})
		return err == nil && len(got["n1"]) == 1 && len(got["n2"]) == 1 && metav1.IsControlledBy(p, ds)
	})
	// Relabelled, the pod is released, and n1 gets a pod again.
	p, _ := h.client.CoreV1().Pods("default").Get(h.ctx, orphan.Name, metav1.GetOptions{})
	p.Labels["app"] = "debug"
	if _, err := h.client.CoreV1().Pods("default").Update(h.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod released and n1 served again", func() bool {
		p, err := h.client.CoreV1().Pods("default").Get(h.ctx, orphan.Name, metav1.GetOptions{})
		return err == nil && len(p.OwnerReferences) == 0 && len(h.podsByNode(t)["n1"]) == 2
	})
}

func TestStatusConflictIsNoFailure(t *testing.T) {
	// The first status write meets a conflict: the DaemonSet was
	// labelled meanwhile. Its update event syncs it again.
	gvr := appsv1.SchemeGroupVersion.WithResource("daemonsets")
	h := startWith(t, func(client *fake.Clientset) {
		var conflicted atomic.Bool
		client.PrependReactor("update", "daemonsets", func(action k8stesting.Action) (bool, runtime.Object, error) {
			if action.GetSubresource() != "status" || conflicted.Swap(true) {
				return false, nil, nil
			}
			obj, err := client.Tracker().Get(gvr, "default", "agent")
			if err != nil {
				return true, nil, err
			}
			ds := obj.(*appsv1.DaemonSet).DeepCopy()
			ds.Labels = map[string]string{"touched": "yes"}
			if err := client.Tracker().Update(gvr, ds, "default"); err != nil {
				return true, nil, err
			}
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), "agent", errors.New("the object has been modified"))
		})
	}, testDS(), testNode("n1"))
	waitFor(t, "the status", func() bool { return h.ds(t).Status.DesiredNumberScheduled == 1 })
	if strings.Contains(h.logs.String(), "sync failed") {
		t.Errorf("the conflict was logged as a failure:\n%s", h.logs.String())
	}
}

func TestRevisionNameCollision(t *testing.T) {
	ds := testDS()
	// Another DaemonSet's revision holds the name this template hashes to.
	taken := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "agent-" + revision.Hash(&ds.Spec.Template, nil),
		Namespace: "default", Labels: map[string]string{"app": "other"}}, Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}, Revision: 1}
	h := start(t, ds, testNode("n1"), taken)
	waitFor(t, "collision count 1 and a pod", func() bool {
		st := h.ds(t).Status
		return st.CollisionCount != nil && *st.CollisionCount == 1 && len(h.pods(t)) == 1
	})
	one := int32(1)
	want := revision.Hash(&ds.Spec.Template, &one)
	if got := h.pods(t)[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; got != want {
		t.Errorf("pod hash %s, want %s", got, want)
	}
	if _, err := h.client.AppsV1().ControllerRevisions("default").Get(h.ctx, "agent-"+want, metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
}

// After `kubectl delete daemonset --cascade=orphan`, a DaemonSet made
// again with the same template adopts the orphaned revision as well as the
// pods (kube's ControllerRevision claim): its name is the one the template
// hashes to, so not adopting it counted as a collision, changed the hash
// and replaced every pod that had been kept.
func TestRecreatedDaemonSetAdoptsItsRevision(t *testing.T) {
	ds := testDS()
	hash := revision.Hash(&ds.Spec.Template, nil)
	data, err := revision.Data(&ds.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	orphanRev := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "agent-" + hash, Namespace: "default",
		UID: "old-rev", Labels: withLabel(ds.Spec.Template.Labels, appsv1.DefaultDaemonSetUniqueLabelKey, hash)},
		Data: runtime.RawExtension{Raw: data}, Revision: 1}
	orphan := daemonPod(ds, "n1", hash, true)
	orphan.OwnerReferences = nil
	h := start(t, ds, testNode("n1"), orphanRev, orphan)
	waitFor(t, "the revision and the pod adopted, the pod up to date", func() bool {
		r, err := h.client.AppsV1().ControllerRevisions("default").Get(h.ctx, orphanRev.Name, metav1.GetOptions{})
		pods := h.pods(t)
		return err == nil && metav1.IsControlledBy(r, ds) && len(pods) == 1 && metav1.IsControlledBy(&pods[0], ds) &&
			h.ds(t).Status.UpdatedNumberScheduled == 1
	})
	if pods := h.pods(t); pods[0].Name != orphan.Name {
		t.Errorf("the kept pod was replaced by %s", pods[0].Name)
	}
	if st := h.ds(t).Status; st.CollisionCount != nil && *st.CollisionCount != 0 {
		t.Errorf("collision count %d, want none", *st.CollisionCount)
	}
}
