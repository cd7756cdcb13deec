package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// deleteObject deletes obj as read (its UID and resourceVersion as
// preconditions: a change in between means looking again).
func (c *Controller) deleteObject(ctx context.Context, n *node, obj *unstructured.Unstructured, policy metav1.DeletionPropagation) error {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	opts := metav1.DeleteOptions{PropagationPolicy: &policy,
		Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
	err := c.dyn.Resource(n.res.gvr).Namespace(n.namespace).Delete(ctx, n.name, opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", n, err)
	}
	c.log.Info("deleted object whose owners are gone", "object", n.String(), "propagationPolicy", policy)
	return nil
}

// metaPatch is a JSON merge patch of metadata fields, with the
// resourceVersion read so that a concurrent change is a conflict.
type metaPatch struct {
	Metadata patchMeta `json:"metadata"`
}

type patchMeta struct {
	ResourceVersion string                   `json:"resourceVersion"`
	OwnerReferences *[]metav1.OwnerReference `json:"ownerReferences,omitempty"`
	Finalizers      *[]string                `json:"finalizers,omitempty"`
}

func (c *Controller) patch(ctx context.Context, n *node, p metaPatch) error {
	_, err := c.patchObject(ctx, n, p)
	return err
}

// patchObject applies p and returns the object as patched (nil if it is gone).
func (c *Controller) patchObject(ctx context.Context, n *node, p metaPatch) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	out, err := c.dyn.Resource(n.res.gvr).Namespace(n.namespace).Patch(ctx, n.name, types.MergePatchType, data, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("patch %s: %w", n, err)
	}
	return out, nil
}

// unblockOwnerRefs sets blockOwnerDeletion false on every ownerReference
// of obj that has it, and returns obj as patched (nil if it is gone).
func (c *Controller) unblockOwnerRefs(ctx context.Context, n *node, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	refs := obj.GetOwnerReferences()
	changed := false
	for i := range refs {
		if b := refs[i].BlockOwnerDeletion; b != nil && *b {
			refs[i].BlockOwnerDeletion = new(bool)
			changed = true
		}
	}
	if !changed {
		return obj, nil
	}
	return c.patchObject(ctx, n, metaPatch{patchMeta{ResourceVersion: obj.GetResourceVersion(), OwnerReferences: &refs}})
}

// removeOwnerRefs drops obj's ownerReferences to the UIDs in drop.
func (c *Controller) removeOwnerRefs(ctx context.Context, n *node, obj *unstructured.Unstructured, drop []types.UID) error {
	refs := obj.GetOwnerReferences()
	kept := slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool { return slices.Contains(drop, r.UID) })
	if len(kept) == len(refs) {
		return nil
	}
	if kept == nil {
		kept = []metav1.OwnerReference{}
	}
	err := c.patch(ctx, n, metaPatch{patchMeta{ResourceVersion: obj.GetResourceVersion(), OwnerReferences: &kept}})
	if err == nil {
		c.log.Info("removed ownerReferences", "object", n.String(), "owners", drop)
	}
	return err
}

// removeFinalizer drops one finalizer from obj.
func (c *Controller) removeFinalizer(ctx context.Context, n *node, obj *unstructured.Unstructured, finalizer string) error {
	fin := obj.GetFinalizers()
	kept := slices.DeleteFunc(slices.Clone(fin), func(f string) bool { return f == finalizer })
	if len(kept) == len(fin) {
		return nil
	}
	if kept == nil {
		kept = []string{}
	}
	err := c.patch(ctx, n, metaPatch{patchMeta{ResourceVersion: obj.GetResourceVersion(), Finalizers: &kept}})
	if err == nil {
		c.log.Info("removed finalizer", "object", n.String(), "finalizer", finalizer)
	}
	return err
}
