package kubecache

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestDropManagedFieldsKeepsEverythingElse(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}}},
		Spec: corev1.PodSpec{NodeName: "n"}}
	got, err := DropManagedFields(pod)
	if err != nil {
		t.Fatal(err)
	}
	p := got.(*corev1.Pod)
	if p.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", p.ManagedFields)
	}
	if p.Name != "p" || p.Labels["a"] != "b" || p.Spec.NodeName != "n" {
		t.Errorf("other fields changed: %+v", p)
	}
}

func TestDropManagedFieldsPassesTombstones(t *testing.T) {
	tomb := cache.DeletedFinalStateUnknown{Key: "ns/p"}
	got, err := DropManagedFields(tomb)
	if err != nil || got != any(tomb) {
		t.Errorf("got %v, %v; want the tombstone unchanged", got, err)
	}
}
