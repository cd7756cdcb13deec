package persistentvolume

import (
	"errors"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// withResourceVersions gives the fake clientset the API server's
// optimistic concurrency for claims and volumes: every write bumps
// metadata.resourceVersion, and an update naming an older one is a 409
// Conflict, as the server answers a controller that writes from a stale
// cache. Without it a stale write silently undoes a newer one, which no
// real server allows.
func withResourceVersions(c *fake.Clientset) {
	var mu sync.Mutex
	next := 1
	bump := func(obj runtime.Object) {
		next++
		m, _ := meta.Accessor(obj)
		m.SetResourceVersion(strconv.Itoa(next))
	}
	for _, res := range []string{"persistentvolumeclaims", "persistentvolumes"} {
		c.PrependReactor("create", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			ca := a.(k8stesting.CreateAction)
			if ca.GetSubresource() != "" {
				return false, nil, nil
			}
			mu.Lock()
			defer mu.Unlock()
			obj := ca.GetObject().DeepCopyObject()
			bump(obj)
			if err := c.Tracker().Create(a.GetResource(), obj, a.GetNamespace()); err != nil {
				return true, nil, err
			}
			return true, obj, nil
		})
		c.PrependReactor("update", res, func(a k8stesting.Action) (bool, runtime.Object, error) {
			ua := a.(k8stesting.UpdateAction)
			mu.Lock()
			defer mu.Unlock()
			obj := ua.GetObject().DeepCopyObject()
			m, _ := meta.Accessor(obj)
			cur, err := c.Tracker().Get(a.GetResource(), a.GetNamespace(), m.GetName())
			if err != nil {
				return true, nil, err
			}
			cm, _ := meta.Accessor(cur)
			if rv := m.GetResourceVersion(); rv != "" && rv != cm.GetResourceVersion() {
				gr := a.GetResource().GroupResource()
				return true, nil, apierrors.NewConflict(gr, m.GetName(), errors.New("the object has been modified; please apply your changes to the latest version and try again"))
			}
			bump(obj)
			if err := c.Tracker().Update(a.GetResource(), obj, a.GetNamespace()); err != nil {
				return true, nil, err
			}
			return true, obj, nil
		})
	}
}
