package claim

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
)

// Patching's owner adopts and releases through the client's patches: the
// stored pods end with the owners the ControllerRef rules give them, and a
// StatefulSet-like Member filter keeps a matching pod of another name out.
func TestPatchingPods(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid"}}
	other := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "default", UID: "other-uid"}}
	kind := appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	mk := func(name, app string, owner *appsv1.DaemonSet) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: uid("u-" + name), Labels: map[string]string{"app": app}}}
		if owner != nil {
			p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, kind)}
		}
		return p
	}
	pods := []*corev1.Pod{mk("mine", "agent", ds), mk("orphan", "agent", nil), mk("theirs", "agent", other),
		mk("relabelled", "debug", ds), mk("unrelated", "debug", nil), mk("stranger", "agent", nil)}
	gone := mk("going", "agent", nil)
	gone.DeletionTimestamp = &metav1.Time{}
	pods = append(pods, gone)
	client := fake.NewClientset(ds)
	for _, p := range pods {
		if _, err := client.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	owner := Patching(ds, "DaemonSet", labels.SelectorFromSet(labels.Set{"app": "agent"}), func(ctx context.Context) (metav1.Object, error) {
		return client.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
	}, PodPatcher(client, "default"))
	owner.Member = func(o metav1.Object) bool { return o.GetName() != "stranger" }
	got, err := Objects(context.Background(), owner, pods)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "mine" || got[1].Name != "orphan" {
		t.Fatalf("got %v", got)
	}
	stored := func(name string) *corev1.Pod {
		p, err := client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if !metav1.IsControlledBy(stored("orphan"), ds) || len(stored("relabelled").OwnerReferences) != 0 ||
		!metav1.IsControlledBy(stored("theirs"), other) || len(stored("unrelated").OwnerReferences) != 0 ||
		len(stored("going").OwnerReferences) != 0 || len(stored("stranger").OwnerReferences) != 0 {
		t.Error("stored owners are wrong")
	}
	ref := metav1.GetControllerOf(stored("orphan"))
	if ref.APIVersion != "apps/v1" || ref.Kind != "DaemonSet" || ref.Name != "agent" || !*ref.BlockOwnerDeletion {
		t.Errorf("adopted with %+v", ref)
	}
}

// An owner that is gone (the recheck reads another UID) adopts nothing and
// says why.
func TestPatchingRecreatedOwner(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "old"}}
	fresh := ds.DeepCopy()
	fresh.UID = "new"
	client := fake.NewClientset(fresh)
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "default", UID: "p", Labels: map[string]string{"app": "agent"}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), orphan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	owner := Patching(ds, "DaemonSet", labels.Everything(), func(ctx context.Context) (metav1.Object, error) {
		return client.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
	}, PodPatcher(client, "default"))
	got, err := Objects(context.Background(), owner, []*corev1.Pod{orphan})
	if err == nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if p, _ := client.CoreV1().Pods("default").Get(context.Background(), "orphan", metav1.GetOptions{}); len(p.OwnerReferences) != 0 {
		t.Errorf("adopted by a recreated owner: %v", p.OwnerReferences)
	}
}
