// Package fakestatus makes a fake clientset's status updates write only
// the status, as the API server's status subresource does (the fake
// writes the whole object, so a controller's status write from a stale
// copy would undo a test's spec change).
package fakestatus

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Install makes updates of gvr's status subresource copy only the status
// (copyStatus(stored, sent)) into the stored object.
func Install[T runtime.Object](client *fake.Clientset, gvr schema.GroupVersionResource, copyStatus func(stored, sent T)) {
	client.PrependReactor("update", gvr.Resource, func(action k8stesting.Action) (bool, runtime.Object, error) {
		u, ok := action.(k8stesting.UpdateAction)
		if !ok || u.GetSubresource() != "status" {
			return false, nil, nil
		}
		sent, ok := u.GetObject().(T)
		if !ok {
			return false, nil, nil
		}
		m, err := meta.Accessor(sent)
		if err != nil {
			return true, nil, err
		}
		obj, err := client.Tracker().Get(gvr, u.GetNamespace(), m.GetName())
		if err != nil {
			return true, nil, err
		}
		stored := obj.DeepCopyObject().(T)
		copyStatus(stored, sent)
		return true, stored, client.Tracker().Update(gvr, stored, u.GetNamespace())
	})
}
