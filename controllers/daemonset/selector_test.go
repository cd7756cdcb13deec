package daemonset

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

// A DaemonSet without a selector (validation refuses one; the fake takes
// it) selects nothing: it makes no pod, which it would release at once and
// make again on every sync.
func TestNilSelectorMakesNoPods(t *testing.T) {
	ds := testDS(func(ds *appsv1.DaemonSet) { ds.Spec.Selector = nil })
	client := fake.NewClientset(ds, testNode("n1"))
	factory := informers.NewSharedInformerFactory(client, 0)
	c := New(client, factory, record.NewFakeRecorder(100), slog.New(slog.DiscardHandler), clocktesting.NewFakeClock(t0))
	ctx := t.Context()
	factory.Start(ctx.Done())
	t.Cleanup(factory.Shutdown)
	factory.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, "default/agent"); err != nil {
		t.Fatal(err)
	}
	if pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("%d pods made", len(pods.Items))
	}
}
