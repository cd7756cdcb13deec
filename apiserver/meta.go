package apiserver

import (
	"crypto/rand"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// generateNameAlphabet is the alphabet of generated name suffixes: no vowels
// (no words) and no look-alikes, as Kubernetes uses.
const generateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randomSuffix(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = generateNameAlphabet[int(b[i])%len(generateNameAlphabet)]
	}
	return string(b)
}

// prepareMetaForCreate fills what the server owns in a new object's
// metadata: name from generateName, namespace from the URL, uid, creation
// time, generation; and refuses what a client may not set.
func (s *Server) prepareMetaForCreate(q *request, obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if err := s.checkNamespace(q, m); err != nil {
		return err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + randomSuffix(5))
	}
	if m.GetResourceVersion() != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	m.SetUID(types.UID(uuid.NewUUID()))
	m.SetCreationTimestamp(metav1.NewTime(s.now()))
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetGeneration(1)
	m.SetManagedFields(nil)
	m.SetSelfLink("")
	return nil
}

// checkNamespace makes the object's namespace agree with the URL.
func (s *Server) checkNamespace(q *request, m metav1.Object) error {
	if !q.res.namespaced {
		m.SetNamespace("")
		return nil
	}
	switch {
	case m.GetNamespace() == "":
		m.SetNamespace(q.info.namespace)
	case m.GetNamespace() != q.info.namespace:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// keepServerMeta carries over from the stored object what a client may not
// change in an update (bumpGeneration decides the generation later).
func (s *Server) keepServerMeta(q *request, obj, old runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	o, _ := meta.Accessor(old)
	if err := s.checkNamespace(q, m); err != nil {
		return err
	}
	if m.GetName() != q.info.name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), q.info.name))
	}
	if m.GetUID() != "" && m.GetUID() != o.GetUID() {
		return apierrors.NewConflict(q.gr(), q.info.name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", m.GetUID(), o.GetUID()))
	}
	m.SetUID(o.GetUID())
	m.SetCreationTimestamp(o.GetCreationTimestamp())
	m.SetDeletionTimestamp(o.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(o.GetDeletionGracePeriodSeconds())
	m.SetGeneration(o.GetGeneration())
	m.SetManagedFields(nil)
	return nil
}

// bumpGeneration increments the generation of an update whose spec, as it
// will be stored (what the client may not change kept, defaults applied),
// differs from the stored one. A status update never does (its spec is the
// stored one; a Deployment's annotations may change with it).
func bumpGeneration(q *request, obj, old runtime.Object) {
	st := q.res.strategy
	if st.specChanged == nil || q.info.subresource == "status" || !st.specChanged(obj, old) {
		return
	}
	if m, err := meta.Accessor(obj); err == nil {
		o, _ := meta.Accessor(old)
		m.SetGeneration(o.GetGeneration() + 1)
	}
}
