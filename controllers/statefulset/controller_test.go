package statefulset

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

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

	"github.com/nodeagent/nodeagent/controllers/internal/fakestatus"
	"github.com/nodeagent/nodeagent/controllers/internal/revision"
)

type harness struct {
	client *fake.Clientset
	events *record.FakeRecorder
	clock  *clocktesting.FakeClock
	ctx    context.Context
}

// start runs the controller on a fake clientset holding objs; created
// pods get a UID and phase Pending, as the API server gives them.
func start(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	clk := clocktesting.NewFakeClock(t0)
	var n atomic.Int64
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		p := action.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.UID = types.UID(fmt.Sprintf("uid-%s-%d", p.Name, n.Add(1)))
		p.Status.Phase = corev1.PodPending
		return false, nil, nil
	})
	fakestatus.Install(client, appsv1.SchemeGroupVersion.WithResource("statefulsets"),
		func(stored, sent *appsv1.StatefulSet) { stored.Status = sent.Status })
	factory := informers.NewSharedInformerFactory(client, 0)
	events := record.NewFakeRecorder(1000)
	c := New(client, factory, events, slog.New(slog.NewTextHandler(io.Discard, nil)), clk)
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return &harness{client: client, events: events, clock: clk, ctx: ctx}
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

func waitFor(t *testing.T, what string, cond func() bool, debug ...func()) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		for _, d := range debug {
			d()
		}
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) pods(t *testing.T) []corev1.Pod {
	t.Helper()
	l, err := h.client.CoreV1().Pods("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	return l.Items
}

// podNames lists pod names with their revision label.
func (h *harness) podNames(t *testing.T) []string {
	out := []string{}
	for _, p := range h.pods(t) {
		out = append(out, p.Name+"@"+p.Labels[appsv1.ControllerRevisionHashLabelKey])
	}
	return out
}

func (h *harness) set(t *testing.T) *appsv1.StatefulSet {
	t.Helper()
	set, err := h.client.AppsV1().StatefulSets("default").Get(h.ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func (h *harness) claims(t *testing.T) map[string][]metav1.OwnerReference {
	t.Helper()
	l, err := h.client.CoreV1().PersistentVolumeClaims("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]metav1.OwnerReference{}
	for _, c := range l.Items {
		out[c.Name] = c.OwnerReferences
	}
	return out
}

// runAll makes every pod Running and Ready, as the kubelet would.
func (h *harness) runAll(t *testing.T) {
	t.Helper()
	for _, p := range h.pods(t) {
		if p.Status.Phase == corev1.PodRunning {
			continue
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(h.clock.Now())}}
		if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, &p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// update changes the set's spec and generation, as a user's write does
// (again on a conflict with the controller's status write).
func (h *harness) update(t *testing.T, change func(*appsv1.StatefulSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		set := h.set(t)
		change(set)
		set.Generation++
		_, err := h.client.AppsV1().StatefulSets("default").Update(h.ctx, set, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOrderedCreationWithClaims(t *testing.T) {
	h := start(t, testSet(2, withClaims))
	waitFor(t, "web-0", func() bool { return len(h.pods(t)) == 1 })
	if _, ok := h.claims(t)["data-web-0"]; !ok {
		t.Fatalf("claims %v", h.claims(t))
	}
	h.waitEvent(t, "Normal SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success")
	h.waitEvent(t, "Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful")
	p := h.pods(t)[0]
	if p.Name != "web-0" || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-web-0" || p.Spec.Subdomain != "web-svc" {
		t.Fatalf("pod %s volumes %+v", p.Name, p.Spec.Volumes)
	}
	// web-1 waits for web-0: the status shows one pod, none ready.
	waitFor(t, "status of web-0", func() bool {
		st := h.set(t).Status
		return st.Replicas == 1 && st.ReadyReplicas == 0 && st.ObservedGeneration == 1 && st.UpdateRevision != ""
	})
	if len(h.pods(t)) != 1 {
		t.Fatalf("web-1 made before web-0 was ready: %v", h.podNames(t))
	}
	h.runAll(t)
	waitFor(t, "web-1", func() bool { return len(h.pods(t)) == 2 })
	h.runAll(t)
	waitFor(t, "both ready", func() bool {
		st := h.set(t).Status
		return st.ReadyReplicas == 2 && st.AvailableReplicas == 2 && st.CurrentReplicas == 2 && st.UpdatedReplicas == 2 &&
			st.CurrentRevision == st.UpdateRevision
	})
	if refs := h.claims(t)["data-web-1"]; refs == nil && len(h.claims(t)) == 2 {
		return // Retain: no owners
	}
	t.Errorf("claims %v", h.claims(t))
}

func TestRollingUpdateInReverseOrder(t *testing.T) {
	h := start(t, testSet(3, parallel))
	waitFor(t, "three pods", func() bool { return len(h.pods(t)) == 3 })
	h.runAll(t)
	waitFor(t, "ready", func() bool { return h.set(t).Status.ReadyReplicas == 3 })
	r1 := h.set(t).Status.CurrentRevision
	h.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "img:v2" })
	var r2 string
	waitFor(t, "a new update revision", func() bool {
		st := h.set(t).Status
		r2 = st.UpdateRevision
		return r2 != r1 && st.CurrentRevision == r1 && st.ObservedGeneration == 2
	})
	for _, want := range [][]string{
		{"web-0@" + r1, "web-1@" + r1, "web-2@" + r2},
		{"web-0@" + r1, "web-1@" + r2, "web-2@" + r2},
		{"web-0@" + r2, "web-1@" + r2, "web-2@" + r2},
	} {
		waitFor(t, "pods "+want[0]+" "+want[1]+" "+want[2], func() bool { return slices.Equal(h.podNames(t), want) })
		h.runAll(t)
	}
	waitFor(t, "the rollout done", func() bool {
		st := h.set(t).Status
		return st.CurrentRevision == r2 && st.UpdatedReplicas == 3 && st.ReadyReplicas == 3
	})
	if img := h.pods(t)[0].Spec.Containers[0].Image; img != "img:v2" {
		t.Errorf("web-0 runs %s", img)
	}
}

func TestFailedPodIsRecreated(t *testing.T) {
	h := start(t, testSet(1))
	waitFor(t, "web-0", func() bool { return len(h.pods(t)) == 1 })
	p := h.pods(t)[0]
	p.Status.Phase = corev1.PodFailed
	if _, err := h.client.CoreV1().Pods("default").UpdateStatus(h.ctx, &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web-0 remade", func() bool {
		pods := h.pods(t)
		return len(pods) == 1 && pods[0].UID != p.UID && pods[0].Status.Phase == corev1.PodPending
	})
}

func TestScaleDownWithClaimRetention(t *testing.T) {
	set := testSet(2, withClaims, parallel, func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	})
	h := start(t, set)
	waitFor(t, "two pods", func() bool { return len(h.pods(t)) == 2 })
	if refs := h.claims(t)["data-web-1"]; len(refs) != 1 || refs[0].Kind != "StatefulSet" || refs[0].UID != "set-uid" {
		t.Fatalf("data-web-1 owners %+v", refs)
	}
	h.runAll(t)
	web1 := h.pods(t)[1]
	h.update(t, func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(1)) })
	h.waitEvent(t, "Normal SuccessfulDelete delete Pod web-1 in StatefulSet web successful")
	waitFor(t, "web-1 gone and its claim owned by it", func() bool {
		refs := h.claims(t)["data-web-1"]
		return len(h.pods(t)) == 1 && len(refs) == 1 && refs[0].Kind == "Pod" && refs[0].UID == web1.UID
	}, func() { t.Logf("pods %v claims %+v", h.podNames(t), h.claims(t)) })
	if refs := h.claims(t)["data-web-0"]; len(refs) != 1 || refs[0].Kind != "StatefulSet" {
		t.Errorf("data-web-0 owners %+v", refs)
	}
}

func TestScaleUpWaitsForAScaledDownPodsClaim(t *testing.T) {
	set := testSet(1, withClaims, func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	})
	// data-web-0 still belongs to a web-0 that is gone: the garbage
	// collector has yet to delete it.
	stale := newClaims(set, 0)[0]
	stale.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "web-0", UID: "old-web-0"}}
	h := start(t, set, stale)
	waitFor(t, "a status", func() bool { return h.set(t).Status.ObservedGeneration == 1 })
	if len(h.pods(t)) != 0 {
		t.Fatalf("web-0 made on a claim about to be deleted: %v", h.podNames(t))
	}
	if err := h.client.CoreV1().PersistentVolumeClaims("default").Delete(h.ctx, stale.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web-0 on a new claim", func() bool {
		refs, ok := h.claims(t)["data-web-0"]
		return len(h.pods(t)) == 1 && ok && len(refs) == 0
	})
}

func TestOrphanIsAdopted(t *testing.T) {
	set := testSet(2)
	orphan := pod(set, 0, "web-old", true)
	orphan.OwnerReferences = nil
	other := pod(set, 1, "web-old", true)
	other.Name, other.OwnerReferences = "db-1", nil // not named after the set
	h := start(t, set, orphan, other)
	waitFor(t, "web-0 adopted and web-1 made", func() bool {
		pods := h.pods(t)
		return len(pods) == 3 && pods[1].Name == "web-0" && metav1.IsControlledBy(&pods[1], set) && pods[2].Name == "web-1"
	})
	if db := h.pods(t)[0]; db.Name != "db-1" || len(db.OwnerReferences) != 0 {
		t.Errorf("db-1 owners %+v", db.OwnerReferences)
	}
}

func TestRevisionNameCollision(t *testing.T) {
	set := testSet(1)
	// Another set's revision holds the name this template hashes to (a
	// set's hash always counts collisions, from 0).
	zero := int32(0)
	taken := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-" + revision.Hash(&set.Spec.Template, &zero),
		Namespace: "default", Labels: map[string]string{"app": "other"}}, Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}, Revision: 1}
	h := start(t, set, taken)
	one := int32(1)
	want := "web-" + revision.Hash(&set.Spec.Template, &one)
	waitFor(t, "collision count 1 and web-0 at the next name", func() bool {
		st := h.set(t).Status
		pods := h.pods(t)
		return st.CollisionCount != nil && *st.CollisionCount == 1 && st.UpdateRevision == want &&
			len(pods) == 1 && pods[0].Labels[appsv1.ControllerRevisionHashLabelKey] == want
	}, func() { t.Logf("status %+v pods %v", h.set(t).Status, h.podNames(t)) })
}

// After `kubectl delete statefulset --cascade=orphan`, a set made again
// with the same template adopts the orphaned revision as well as its pods
// (kube's adoptOrphanRevisions): its name is the one the template hashes
// to, so not adopting it counted as a collision, made a new update
// revision and rolled every kept pod over to it.
func TestRecreatedSetAdoptsItsRevision(t *testing.T) {
	set := testSet(1)
	zero := int32(0)
	name := "web-" + revision.Hash(&set.Spec.Template, &zero)
	data, err := revision.Data(&set.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	orphanRev := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "old-rev",
		Labels: withLabel(set.Spec.Template.Labels, hashLabel, revision.Hash(&set.Spec.Template, &zero))},
		Data: runtime.RawExtension{Raw: data}, Revision: 1}
	orphan := pod(set, 0, name, true)
	orphan.OwnerReferences = nil
	h := start(t, set, orphanRev, orphan)
	waitFor(t, "the revision and web-0 adopted, the set current", func() bool {
		r, err := h.client.AppsV1().ControllerRevisions("default").Get(h.ctx, name, metav1.GetOptions{})
		st := h.set(t).Status
		pods := h.pods(t)
		return err == nil && metav1.IsControlledBy(r, set) && st.UpdateRevision == name && st.CurrentRevision == name &&
			len(pods) == 1 && metav1.IsControlledBy(&pods[0], set)
	}, func() { t.Logf("status %+v pods %v", h.set(t).Status, h.podNames(t)) })
	if p := h.pods(t)[0]; p.UID != orphan.UID {
		t.Errorf("web-0 was replaced (uid %s)", p.UID)
	}
	if st := h.set(t).Status; st.CollisionCount != nil && *st.CollisionCount != 0 {
		t.Errorf("collision count %d, want 0", *st.CollisionCount)
	}
}
