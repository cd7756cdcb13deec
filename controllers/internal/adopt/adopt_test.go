package adopt

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
)

func TestPods(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid"}}
	other := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "default", UID: "other-uid"}}
	kind := appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	mk := func(name, app string, owner *appsv1.DaemonSet) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": app}}}
		if owner != nil {
			p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, kind)}
		}
		return p
	}
	pods := []*corev1.Pod{mk("mine", "agent", ds), mk("orphan", "agent", nil), mk("theirs", "agent", other),
		mk("relabelled", "debug", ds), mk("unrelated", "debug", nil)}
	gone := mk("going", "agent", nil)
	gone.DeletionTimestamp = &metav1.Time{}
	pods = append(pods, gone)
	client := fake.NewSimpleClientset(ds)
	for _, p := range pods {
		if _, err := client.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	owner := Owner{Meta: ds, Kind: kind, Selector: labels.SelectorFromSet(labels.Set{"app": "agent"}),
		Fresh: func(ctx context.Context) (metav1.Object, error) {
			return client.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
		}}
	got, err := Pods(context.Background(), client, owner, pods)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "mine" || got[1].Name != "orphan" || !metav1.IsControlledBy(got[1], ds) {
		t.Fatalf("got %v", got)
	}
	stored := func(name string) *corev1.Pod {
		p, _ := client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		return p
	}
	if !metav1.IsControlledBy(stored("orphan"), ds) || len(stored("relabelled").OwnerReferences) != 0 ||
		!metav1.IsControlledBy(stored("theirs"), other) || len(stored("unrelated").OwnerReferences) != 0 || len(stored("going").OwnerReferences) != 0 {
		t.Error("stored owners are wrong")
	}

	// An owner that is being deleted adopts and releases nothing.
	deleting := ds.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{}
	owner.Meta = deleting
	got, err = Pods(context.Background(), client, owner, []*corev1.Pod{mk("orphan2", "agent", nil), mk("relabelled2", "debug", ds)})
	if err != nil || len(got) != 1 || got[0].Name != "relabelled2" {
		t.Errorf("deleting owner: %v, %v", got, err)
	}
}
