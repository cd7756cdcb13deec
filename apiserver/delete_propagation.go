package apiserver

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// propagationFromQuery reads propagationPolicy and orphanDependents from
// the query, as kube-apiserver does when a DELETE has no body.
func propagationFromQuery(q url.Values, opts *metav1.DeleteOptions) error {
	if p := q.Get("propagationPolicy"); p != "" {
		policy := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &policy
	}
	if o := q.Get("orphanDependents"); o != "" {
		b, err := strconv.ParseBool(o)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid orphanDependents %q: %v", o, err))
		}
		opts.OrphanDependents = &b
	}
	return nil
}

// validatePropagation is kube's DeleteOptions validation of the cascading
// fields: a 422 on DeleteOptions.meta.k8s.io.
func validatePropagation(opts *metav1.DeleteOptions) error {
	var errs field.ErrorList
	path := field.NewPath("propagationPolicy")
	p := opts.PropagationPolicy
	if opts.OrphanDependents != nil && p != nil {
		errs = append(errs, field.Invalid(path, string(*p), "orphanDependents and deletionPropagation cannot be both set"))
	}
	if p != nil && *p != metav1.DeletePropagationForeground && *p != metav1.DeletePropagationBackground && *p != metav1.DeletePropagationOrphan {
		errs = append(errs, field.NotSupported(path, string(*p), []string{string(metav1.DeletePropagationForeground),
			string(metav1.DeletePropagationBackground), string(metav1.DeletePropagationOrphan), "nil"}))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "DeleteOptions"}, "", errs)
}

// defaultPropagation is opts with the policy filled in where the delete
// names none, the object has no garbage collection finalizer yet, and
// kube's default is not background: batch/v1 Jobs orphan their pods (kept
// for compatibility; kubectl sends Background explicitly).
func defaultPropagation(r *resource, cur runtime.Object, opts *metav1.DeleteOptions) *metav1.DeleteOptions {
	if opts.OrphanDependents != nil || opts.PropagationPolicy != nil || r.groupResource() != (schema.GroupResource{Group: "batch", Resource: "jobs"}) {
		return opts
	}
	if m, err := meta.Accessor(cur); err != nil || slices.ContainsFunc(m.GetFinalizers(), func(f string) bool {
		return f == metav1.FinalizerOrphanDependents || f == metav1.FinalizerDeleteDependents
	}) {
		return opts
	}
	withPolicy := *opts
	orphan := metav1.DeletePropagationOrphan
	withPolicy.PropagationPolicy = &orphan
	return &withPolicy
}

// orphans tells whether a delete with opts leaves the dependents: the
// options first, then a finalizer the object already has; the default
// is background.
func orphans(finalizers []string, opts *metav1.DeleteOptions) bool {
	if opts.OrphanDependents != nil {
		return *opts.OrphanDependents
	}
	if opts.PropagationPolicy != nil {
		return *opts.PropagationPolicy == metav1.DeletePropagationOrphan
	}
	for _, f := range finalizers {
		switch f {
		case metav1.FinalizerOrphanDependents:
			return true
		case metav1.FinalizerDeleteDependents:
			return false
		}
	}
	return false
}

// foreground tells whether a delete with opts waits for the dependents.
func foreground(finalizers []string, opts *metav1.DeleteOptions) bool {
	if opts.OrphanDependents != nil {
		return false
	}
	if opts.PropagationPolicy != nil {
		return *opts.PropagationPolicy == metav1.DeletePropagationForeground
	}
	return slices.Contains(finalizers, metav1.FinalizerDeleteDependents)
}

// gcFinalizers are the object's finalizers after a delete with opts: the
// orphan and foregroundDeletion finalizers set as the options ask, the
// others kept in their order. changed is false when they are as before.
func gcFinalizers(finalizers []string, opts *metav1.DeleteOptions) (out []string, changed bool) {
	for _, f := range finalizers {
		if f != metav1.FinalizerOrphanDependents && f != metav1.FinalizerDeleteDependents {
			out = append(out, f)
		}
	}
	if orphans(finalizers, opts) {
		out = append(out, metav1.FinalizerOrphanDependents)
	}
	if foreground(finalizers, opts) {
		out = append(out, metav1.FinalizerDeleteDependents)
	}
	return out, !slices.Equal(out, finalizers)
}

// gcFinalizersChange tells whether a delete with opts changes obj's
// garbage collection finalizers.
func gcFinalizersChange(obj runtime.Object, opts *metav1.DeleteOptions) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	_, changed := gcFinalizers(m.GetFinalizers(), opts)
	return changed
}

// setGCFinalizers sets obj's garbage collection finalizers as opts asks.
func setGCFinalizers(obj runtime.Object, opts *metav1.DeleteOptions) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	if out, changed := gcFinalizers(m.GetFinalizers(), opts); changed {
		m.SetFinalizers(out)
	}
}
