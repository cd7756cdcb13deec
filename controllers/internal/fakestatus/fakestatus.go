// Package fakestatus makes a fake clientset treat one resource as the API
// server does where controllers rely on it: a status update writes only
// the status (the fake writes the whole object, so a status write from a
// stale copy would undo a spec change), and every write gets a new
// resourceVersion and is refused with a conflict when it carries an older
// one (the fake checks none, so a write from a stale cache would win).
package fakestatus

import (
	"errors"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Install makes updates of gvr's status subresource copy only the status
// (copyStatus(stored, sent)) into the stored object, and versions gvr's
// creates and updates.
func Install[T runtime.Object](client *fake.Clientset, gvr schema.GroupVersionResource, copyStatus func(stored, sent T)) {
	r := &reactor[T]{client: client, gvr: gvr, copyStatus: copyStatus, rv: 1000}
	client.PrependReactor("create", gvr.Resource, r.create)
	client.PrependReactor("update", gvr.Resource, r.update)
}

type reactor[T runtime.Object] struct {
	client     *fake.Clientset
	gvr        schema.GroupVersionResource
	copyStatus func(stored, sent T)
	mu         sync.Mutex // one write at a time: check, then store
	rv         int
}

func (r *reactor[T]) next() string {
	r.rv++
	return strconv.Itoa(r.rv)
}

func (r *reactor[T]) create(action k8stesting.Action) (bool, runtime.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, err := meta.Accessor(action.(k8stesting.CreateAction).GetObject())
	if err != nil {
		return true, nil, err
	}
	m.SetResourceVersion(r.next())
	return false, nil, nil
}

func (r *reactor[T]) update(action k8stesting.Action) (bool, runtime.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := action.(k8stesting.UpdateAction)
	sent, ok := u.GetObject().(T)
	if !ok {
		return false, nil, nil
	}
	m, err := meta.Accessor(sent)
	if err != nil {
		return true, nil, err
	}
	obj, err := r.client.Tracker().Get(r.gvr, u.GetNamespace(), m.GetName())
	if err != nil {
		return true, nil, err
	}
	stored := obj.DeepCopyObject().(T)
	sm, _ := meta.Accessor(stored)
	if rv := m.GetResourceVersion(); rv != "" && rv != sm.GetResourceVersion() {
		return true, nil, apierrors.NewConflict(r.gvr.GroupResource(), m.GetName(),
			errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if u.GetSubresource() != "status" {
		m.SetResourceVersion(r.next())
		return true, sent, r.client.Tracker().Update(r.gvr, sent, u.GetNamespace())
	}
	r.copyStatus(stored, sent)
	sm.SetResourceVersion(r.next())
	return true, stored, r.client.Tracker().Update(r.gvr, stored, u.GetNamespace())
}
