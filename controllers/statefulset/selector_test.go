package statefulset

import (
	"log/slog"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
