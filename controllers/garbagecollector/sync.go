package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// sync does the collector's work for one object, read live first.
func (c *Controller) sync(ctx context.Context, uid types.UID) error {
	n := c.graph.get(uid)
	if n == nil {
		return nil
	}
	latest, err := c.dyn.Resource(n.res.gvr).Namespace(n.namespace).Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // its delete event is on its way
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", n, err)
	}
	if latest.GetUID() != uid {
		return nil
	}
	cur := newNode(n.res, latest)
	switch {
	case cur.orphan:
		return c.orphanDependents(ctx, cur, latest)
	case cur.foreground:
		return c.releaseIfUnblocked(ctx, cur, latest)
	case cur.deleting, len(cur.owners) == 0:
		return nil
	}
	return c.attemptToDelete(ctx, cur, latest)
}

// ownerState is what a live GET says of one ownerReference.
type ownerState int

const (
	solid    ownerState = iota // there, same UID, not deleting its dependents
	dangling                   // absent, or another object of that name
	waiting                    // being deleted in the foreground
)

// errInvalidOwner marks a cluster-scoped object that names a namespaced
// owner: kube leaves it alone, retrying would not change that.
var errInvalidOwner = errors.New("a cluster-scoped object cannot have a namespaced owner")

// stateOf looks the owner up in the dependent's namespace (or cluster-wide
// for a cluster-scoped kind).
func (c *Controller) stateOf(ctx context.Context, item *node, ref metav1.OwnerReference) (ownerState, error) {
	r, err := c.resources().forOwner(ref)
	if err != nil {
		return solid, err
	}
	ns := ""
	if r.namespaced {
		if item.namespace == "" {
			return solid, errInvalidOwner
		}
		ns = item.namespace
	}
	owner, err := c.dyn.Resource(r.gvr).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return dangling, nil
	}
	if err != nil {
		return solid, fmt.Errorf("get owner %s %s of %s: %w", ref.Kind, ref.Name, item, err)
	}
	if owner.GetUID() != ref.UID {
		return dangling, nil
	}
	if owner.GetDeletionTimestamp() != nil && slices.Contains(owner.GetFinalizers(), metav1.FinalizerDeleteDependents) {
		return waiting, nil
	}
	return solid, nil
}

// attemptToDelete deletes item when none of its owners is left: kube's
// attemptToDeleteItem. With some owners left it drops the references to
// the absent ones and to those deleting their dependents.
func (c *Controller) attemptToDelete(ctx context.Context, item *node, latest *unstructured.Unstructured) error {
	var solidN int
	var drop []types.UID
	var anyWaiting bool
	for _, ref := range item.owners {
		st, err := c.stateOf(ctx, item, ref)
		if errors.Is(err, errInvalidOwner) {
			c.log.Info("cluster-scoped object names a namespaced owner; left alone", "object", item.String(), "owner", ref.Name)
			return nil
		}
		if err != nil {
			return err
		}
		switch st {
		case solid:
			solidN++
		case waiting:
			anyWaiting = true
			drop = append(drop, ref.UID)
		default:
			drop = append(drop, ref.UID)
		}
	}
	switch {
	case solidN > 0 && len(drop) == 0:
		return nil
	case solidN > 0:
		return c.removeOwnerRefs(ctx, item, latest, drop)
	case anyWaiting:
		if deps := c.graph.dependentsOf(item.uid); len(deps) > 0 {
			return c.deleteForeground(ctx, item, latest, deps)
		}
	}
	return c.deleteObject(ctx, item, latest, policyOf(latest))
}

// deleteForeground deletes item, whose owner waits for it, in the
// foreground: its own dependents go first, so that the owner waits for
// them too. When one of them is itself waiting for its dependents, item's
// references stop blocking its owners first, so that a cycle of owners
// cannot wait on itself for ever (kube's rule).
func (c *Controller) deleteForeground(ctx context.Context, item *node, latest *unstructured.Unstructured, deps []*node) error {
	if slices.ContainsFunc(deps, func(d *node) bool { return d.foreground }) {
		unblocked, err := c.unblockOwnerRefs(ctx, item, latest)
		if err != nil || unblocked == nil {
			return err
		}
		latest = unblocked
	}
	return c.deleteObject(ctx, item, latest, metav1.DeletePropagationForeground)
}

// policyOf keeps a policy the object was already given.
func policyOf(obj metav1.Object) metav1.DeletionPropagation {
	switch fin := obj.GetFinalizers(); {
	case slices.Contains(fin, metav1.FinalizerOrphanDependents):
		return metav1.DeletePropagationOrphan
	case slices.Contains(fin, metav1.FinalizerDeleteDependents):
		return metav1.DeletePropagationForeground
	}
	return metav1.DeletePropagationBackground
}

// orphanDependents drops every dependent's reference to owner, then the
// owner's orphan finalizer.
func (c *Controller) orphanDependents(ctx context.Context, owner *node, latest *unstructured.Unstructured) error {
	for _, dep := range c.graph.dependentsOf(owner.uid) {
		d, err := c.dyn.Resource(dep.res.gvr).Namespace(dep.namespace).Get(ctx, dep.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get dependent %s: %w", dep, err)
		}
		if d.GetUID() != dep.uid {
			continue
		}
		if err := c.removeOwnerRefs(ctx, newNode(dep.res, d), d, []types.UID{owner.uid}); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, owner, latest, metav1.FinalizerOrphanDependents)
}

// releaseIfUnblocked removes owner's foregroundDeletion finalizer once no
// dependent that blocks it is left; until then it queues those that are
// not being deleted yet.
func (c *Controller) releaseIfUnblocked(ctx context.Context, owner *node, latest *unstructured.Unstructured) error {
	var blocking []*node
	for _, dep := range c.graph.dependentsOf(owner.uid) {
		if blocks(dep, owner.uid) {
			blocking = append(blocking, dep)
		}
	}
	if len(blocking) == 0 {
		return c.removeFinalizer(ctx, owner, latest, metav1.FinalizerDeleteDependents)
	}
	for _, dep := range blocking {
		if !dep.deleting {
			c.queue.Add(dep.uid)
		}
	}
	return nil
}

// blocks tells whether dep's reference to owner has blockOwnerDeletion.
func blocks(dep *node, owner types.UID) bool {
	for _, ref := range dep.owners {
		if ref.UID == owner && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
			return true
		}
	}
	return false
}
