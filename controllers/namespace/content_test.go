package namespace

import (
	"context"
	"io"
	"log/slog"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A namespace's hand-written v1 Endpoints go with it, and only its own.
func TestDeleteContentDeletesEndpoints(t *testing.T) {
	ep := func(ns string) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}}
	}
	client := fake.NewSimpleClientset(ep("gone"), ep("kept"))
	// The fake has no deletecollection: delete the namespace's Endpoints
	// one by one, as the API server's deletecollection does.
	client.PrependReactor("delete-collection", "endpoints", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l, err := client.Tracker().List(corev1.SchemeGroupVersion.WithResource("endpoints"),
			corev1.SchemeGroupVersion.WithKind("Endpoints"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		for _, e := range l.(*corev1.EndpointsList).Items {
			if err := client.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("endpoints"), e.Namespace, e.Name); err != nil {
				return true, nil, err
			}
		}
		return true, nil, nil
	})
	c := New(client, informers.NewSharedInformerFactory(client, 0), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	left, err := c.deleteContent(ctx, "gone")
	if err != nil || left != 0 {
		t.Fatalf("deleteContent: %d left, %v", left, err)
	}
	for ns, want := range map[string]int{"gone": 0, "kept": 1} {
		l, err := client.CoreV1().Endpoints(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) != want {
			t.Errorf("Endpoints in %s: %d, want %d (%v)", ns, len(l.Items), want, err)
		}
	}
}
