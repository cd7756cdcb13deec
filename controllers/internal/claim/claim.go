// Package claim holds the ControllerRef rules the workload controllers
// share (kube's ControllerRefManager): a controller owns the objects whose
// controller reference names its UID and that its selector still matches,
// adopts orphans its selector matches, and releases the objects it owns
// that its selector no longer matches. The ReplicaSet, DaemonSet and
// StatefulSet controllers claim pods with it, the DaemonSet and
// StatefulSet controllers their ControllerRevisions, the Deployment
// controller ReplicaSets; `kubectl delete --cascade=orphan` followed by a new owner,
// or a relabelled object, then behave as with kube.
package claim

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Owner is the controller that claims objects.
type Owner struct {
	// Ref is the controller reference the owner puts on what it adopts
	// (Controller and BlockOwnerDeletion true).
	Ref metav1.OwnerReference
	// Deleting: an owner being deleted neither adopts nor releases.
	Deleting bool
	// Selector picks the objects the owner wants.
	Selector labels.Selector
	// Member, when set, also has to accept an object for the owner to
	// want it (the StatefulSet's pods carry its name).
	Member func(metav1.Object) bool
	// Recheck reads the owner from the API server, not a cache, and fails
	// when it is gone, has another UID or is being deleted; it is called
	// once, before the first adoption, and its error holds for them all.
	Recheck func(context.Context) error
	// Adopt and Release patch one object's owner references.
	Adopt, Release func(context.Context, metav1.Object) error
}

// Objects returns the candidates the owner owns after adopting and
// releasing. Objects that vanish while being patched are left out without
// an error; the first other error is returned with what was claimed so far.
func Objects[T metav1.Object](ctx context.Context, o Owner, candidates []T) ([]T, error) {
	var owned []T
	var errs []error
	var once recheck
	for _, obj := range candidates {
		keep, err := claimOne(ctx, o, obj, &once)
		if err != nil {
			errs = append(errs, err)
		}
		if keep {
			owned = append(owned, obj)
		}
	}
	if len(errs) > 0 {
		return owned, errs[0]
	}
	return owned, nil
}

// recheck remembers the one Recheck of a claim and its answer.
type recheck struct {
	done bool
	err  error
}

func claimOne(ctx context.Context, o Owner, obj metav1.Object, once *recheck) (bool, error) {
	matches := o.Selector.Matches(labels.Set(obj.GetLabels())) && (o.Member == nil || o.Member(obj))
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != o.Ref.UID {
			return false, nil
		}
		if matches || o.Deleting {
			return matches, nil
		}
		return false, ignoreGone(o.Release(ctx, obj))
	}
	if !matches || o.Deleting || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if !once.done {
		once.done, once.err = true, o.Recheck(ctx)
	}
	if once.err != nil {
		return false, once.err
	}
	if err := o.Adopt(ctx, obj); err != nil {
		return false, ignoreGone(err)
	}
	return true, nil
}

// ignoreGone drops the errors of an object deleted meanwhile (NotFound) or
// whose UID no longer matches (Invalid): there is nothing left to claim.
func ignoreGone(err error) error {
	if err == nil || apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

// Recheck returns an Owner.Recheck that reads the owner with get and
// compares UID and deletion.
func Recheck(uid types.UID, get func(context.Context) (metav1.Object, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return fmt.Errorf("recheck owner before adopting: %w", err)
		}
		if fresh.GetUID() != uid {
			return fmt.Errorf("owner has UID %s, want %s: it was recreated", fresh.GetUID(), uid)
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("owner %s is being deleted", fresh.GetName())
		}
		return nil
	}
}

// Selector is an owner's label selector. A nil one, which
// LabelSelectorAsSelector reads as selecting nothing, and an empty one,
// which selects everything, are errors (validation refuses both): with
// the first an owner would release every object it made, and make them
// again, on every sync; with the second it would adopt every orphan.
func Selector(ls *metav1.LabelSelector) (labels.Selector, error) {
	if ls == nil {
		return nil, errors.New("no selector")
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("invalid selector: %w", err)
	}
	if sel.Empty() {
		return nil, errors.New("empty selector")
	}
	return sel, nil
}
