package statefulset

import (
	"log/slog"
	"testing"

	"github.com/nodeagent/nodeagent/controllers/internal/revision"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

// A StatefulSet without a selector (validation refuses one; the fake
// takes it) selects nothing: it makes no pod or revision, which it would
// release at once.
func TestNilSelectorMakesNoPods(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) { s.Spec.Selector = nil })
	client := fake.NewClientset(set)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, record.NewFakeRecorder(100), slog.New(slog.DiscardHandler), clocktesting.NewFakeClock(t0))
	ctx := t.Context()
	factory.Start(ctx.Done())
	t.Cleanup(factory.Shutdown)
	factory.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	revs, _ := client.AppsV1().ControllerRevisions("default").List(ctx, metav1.ListOptions{})
	if len(pods.Items)+len(revs.Items) != 0 {
		t.Errorf("%d pods and %d revisions made", len(pods.Items), len(revs.Items))
	}
}

// A set being deleted with --cascade=orphan whose revision the garbage
// collector has already orphaned makes no revision of its own (kube's
// sync fails to adopt instead): the one it made took the next name, was
// orphaned too, and a set applied again adopted both, took the newer as
// its update revision and replaced every pod it had kept.
func TestDeletingSetMakesNoRevision(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) {
		s.DeletionTimestamp = &metav1.Time{Time: t0}
		s.Finalizers = []string{metav1.FinalizerOrphanDependents}
	})
	zero := int32(0)
	data, err := revision.Data(&set.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	orphaned := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-" + revision.Hash(&set.Spec.Template, &zero),
		Namespace: "default", UID: "rev", Labels: set.Spec.Template.Labels}, Data: runtime.RawExtension{Raw: data}, Revision: 1}
	client := fake.NewClientset(set, orphaned)
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, record.NewFakeRecorder(100), slog.New(slog.DiscardHandler), clocktesting.NewFakeClock(t0))
	ctx := t.Context()
	factory.Start(ctx.Done())
	t.Cleanup(factory.Shutdown)
	factory.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	revs, _ := client.AppsV1().ControllerRevisions("default").List(ctx, metav1.ListOptions{})
	if len(revs.Items) != 1 || len(revs.Items[0].OwnerReferences) != 0 {
		t.Errorf("revisions %+v", revs.Items)
	}
}
