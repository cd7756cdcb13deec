package apiserver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// crdRecheck is how often a terminating definition's custom resources are
// looked at again (those with finalizers go only when released).
const crdRecheck = time.Second

// startCRDs serves the established definitions' resources now, then keeps
// them, and the definitions' status, in step with the stored definitions
// until Close.
func (s *Server) startCRDs(ctx context.Context) error {
	rev, _, err := s.syncCRDs(ctx)
	if err != nil {
		return fmt.Errorf("custom resource definitions: %w", err)
	}
	loop, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// Close waits for the loop: its watch ends before etcd does.
	s.stopCRDs = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		s.runCRDs(loop, rev)
	}()
	return nil
}

func (s *Server) crdResource() *resource {
	r, _ := s.reg.lookup(crdGVK.Group, crdGVK.Version, "customresourcedefinitions")
	return r
}

// runCRDs syncs after every change of a definition, and every crdRecheck
// while one is terminating; a failed watch starts over.
func (s *Server) runCRDs(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		next, err := s.watchCRDs(ctx, rev)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("custom resource definitions: watch failed, starting over", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(crdRecheck):
			}
			next, _, err = s.syncCRDs(ctx)
			if err != nil {
				next = 0
			}
		}
		rev = next
	}
}

func (s *Server) watchCRDs(ctx context.Context, rev int64) (int64, error) {
	w, err := s.store(s.crdResource()).Watch(ctx, "", storage.WatchOptions{Revision: rev}, storage.WatchLimits{Buffer: 1000})
	if err != nil {
		return rev, err
	}
	defer w.Stop()
	tick := time.NewTicker(crdRecheck)
	defer tick.Stop()
	terminating := true
	for {
		select {
		case <-ctx.Done():
			return rev, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rev, nil
			}
			if ev.Type == watch.Error {
				return rev, apierrors.FromObject(ev.Object)
			}
		case <-tick.C:
			if !terminating {
				continue
			}
		}
		next, term, err := s.syncCRDs(ctx)
		if err != nil {
			s.log.Warn("custom resource definitions: sync failed", "err", err)
			continue
		}
		terminating = term
		rev = max(rev, next)
	}
}

// syncCRDs reads every definition, serves the established ones' resources,
// writes the status the naming and establishing decisions give, and
// finalizes the terminating ones. It returns the revision it read at and
// whether a definition is terminating.
func (s *Server) syncCRDs(ctx context.Context) (int64, bool, error) {
	page, err := s.store(s.crdResource()).List(ctx, "", storage.ListOptions{})
	if err != nil {
		return 0, false, err
	}
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(page.Items))
	for _, o := range page.Items {
		crds = append(crds, o.(*apiextensionsv1.CustomResourceDefinition))
	}
	slices.SortFunc(crds, func(a, b *apiextensionsv1.CustomResourceDefinition) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	next := s.decideCRDs(crds)
	s.serveCRDs(next)
	var errs []error
	terminating := false
	for i, crd := range next {
		if !reflect.DeepEqual(crd.Status, crds[i].Status) {
			errs = append(errs, s.writeCRDStatus(ctx, crd))
		}
		if crd.DeletionTimestamp != nil {
			terminating = true
			errs = append(errs, s.finalizeCRD(ctx, crd))
		}
	}
	return page.Revision, terminating, errors.Join(errs...)
}

// decideCRDs computes each definition's status, in creation order so that
// the older definition keeps a contested name.
func (s *Server) decideCRDs(crds []*apiextensionsv1.CustomResourceDefinition) []*apiextensionsv1.CustomResourceDefinition {
	out := make([]*apiextensionsv1.CustomResourceDefinition, len(crds))
	for i, crd := range crds {
		var others []*apiextensionsv1.CustomResourceDefinition
		for j, o := range crds {
			if j != i && o.Spec.Group == crd.Spec.Group {
				if j < i {
					o = out[j]
				}
				others = append(others, o)
			}
		}
		next := establish(crd, namesClaimedBy(others))
		if next.DeletionTimestamp != nil {
			apihelpers.SetCRDCondition(next, apiextensionsv1.CustomResourceDefinitionCondition{Type: apiextensionsv1.Terminating,
				Status: apiextensionsv1.ConditionTrue, Reason: "InstanceDeletionInProgress", Message: "CustomResource deletion is in progress"})
		}
		out[i] = next
	}
	return out
}

// serveCRDs replaces the served custom resources by the established
// definitions' (a definition whose resources cannot be built is logged and
// not served).
func (s *Server) serveCRDs(crds []*apiextensionsv1.CustomResourceDefinition) {
	var rs []*resource
	for _, crd := range crds {
		if !apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		more, err := s.crd.customResources(crd)
		if err != nil {
			s.log.Warn("custom resource definition not served", "name", crd.Name, "err", err)
			continue
		}
		rs = append(rs, more...)
	}
	newStore, done := s.customCaches.begin(crds)
	s.custom.replace(rs, newStore)
	done()
}

// writeCRDStatus stores the decided status over the current one; a
// definition gone meanwhile is not an error.
func (s *Server) writeCRDStatus(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	_, err := s.store(s.crdResource()).Update(ctx, "", crd.Name, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*apiextensionsv1.CustomResourceDefinition)
		if c.UID != crd.UID {
			return nil, crdGone(crd.Name)
		}
		c.Status.AcceptedNames = crd.Status.AcceptedNames
		c.Status.Conditions = crd.Status.Conditions
		return c, nil
	})
	if storage.IsNotFound(err) {
		return nil
	}
	return err
}

// finalizeCRD deletes a terminating definition's custom resources (those
// with finalizers are marked and waited for), then releases the
// definition: without finalizers left it is deleted.
func (s *Server) finalizeCRD(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	if !apihelpers.CRDHasFinalizer(crd, crdCleanupFinalizer) {
		return nil
	}
	left, err := s.deleteCustomObjects(ctx, crd)
	if err != nil || left > 0 {
		return err
	}
	st := s.store(s.crdResource())
	updated, err := st.Update(ctx, "", crd.Name, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*apiextensionsv1.CustomResourceDefinition)
		if c.UID != crd.UID {
			return nil, crdGone(crd.Name)
		}
		apihelpers.CRDRemoveFinalizer(c, crdCleanupFinalizer)
		return c, nil
	})
	if storage.IsNotFound(err) {
		return nil
	}
	if err != nil || len(updated.(*apiextensionsv1.CustomResourceDefinition).Finalizers) > 0 {
		return err
	}
	_, err = st.Delete(ctx, "", crd.Name, func(cur runtime.Object) error {
		if c := cur.(*apiextensionsv1.CustomResourceDefinition); c.UID != crd.UID || len(c.Finalizers) > 0 {
			return crdGone(crd.Name)
		}
		return nil
	})
	if storage.IsNotFound(err) {
		return nil
	}
	return err
}

// deleteCustomObjects deletes the definition's objects and returns how many
// are left (marked, held by finalizers).
func (s *Server) deleteCustomObjects(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (int, error) {
	plural := crd.Status.AcceptedNames.Plural
	if plural == "" {
		plural = crd.Spec.Names.Plural
	}
	st := storage.NewStore(s.backend.Client, "/registry/"+crd.Spec.Group+"/"+plural,
		func() runtime.Object { return &unstructured.Unstructured{} })
	page, err := st.List(ctx, "", storage.ListOptions{})
	if err != nil {
		return 0, err
	}
	left := 0
	for _, o := range page.Items {
		u := o.(*unstructured.Unstructured)
		if len(u.GetFinalizers()) == 0 {
			_, err = st.Delete(ctx, u.GetNamespace(), u.GetName(), nil)
		} else {
			left++
			err = s.markCustomDeleted(ctx, st, u)
		}
		if err != nil && !storage.IsNotFound(err) {
			return left, err
		}
	}
	return left, nil
}

func (s *Server) markCustomDeleted(ctx context.Context, st *storage.Store, u *unstructured.Unstructured) error {
	if u.GetDeletionTimestamp() != nil {
		return nil
	}
	_, err := st.Update(ctx, u.GetNamespace(), u.GetName(), func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*unstructured.Unstructured)
		if c.GetDeletionTimestamp() == nil {
			now := metav1.NewTime(s.now())
			c.SetDeletionTimestamp(&now)
			c.SetDeletionGracePeriodSeconds(new(int64))
		}
		return c, nil
	})
	return err
}

// crdGone stops a write to a definition that is not the one decided on
// (deleted, perhaps created again).
func crdGone(name string) error {
	return &storage.Error{Code: storage.NotFound, Key: name, Msg: name + " is gone"}
}
