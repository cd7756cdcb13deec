package claim

import (
	"context"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

type patchMeta struct {
	Metadata struct {
		OwnerReferences []any     `json:"ownerReferences"`
		UID             types.UID `json:"uid"`
	} `json:"metadata"`
}

// AdoptPatch is the strategic merge patch that adds ref to the object with
// uid (the uid makes it fail on an object recreated under the same name).
func AdoptPatch(ref metav1.OwnerReference, uid types.UID) ([]byte, error) {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{ref}
	p.Metadata.UID = uid
	return json.Marshal(p)
}

// ReleasePatch is the strategic merge patch that removes the reference to
// owner from the object with uid.
func ReleasePatch(owner, uid types.UID) ([]byte, error) {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{map[string]any{"$patch": "delete", "uid": owner}}
	p.Metadata.UID = uid
	return json.Marshal(p)
}

// ControllerRef is the reference a controller of kind gvk puts on what it
// owns.
func ControllerRef(owner metav1.Object, apiVersion, kind string) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &t, BlockOwnerDeletion: &t}
}

// Patcher sends a strategic merge patch to the named object of the
// owner's namespace.
type Patcher func(ctx context.Context, name string, body []byte) error

// PodPatcher patches the pods of namespace ns.
func PodPatcher(client kubernetes.Interface, ns string) Patcher {
	return func(ctx context.Context, name string, body []byte) error {
		_, err := client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{})
		return err
	}
}

// RevisionPatcher patches the ControllerRevisions of namespace ns.
func RevisionPatcher(client kubernetes.Interface, ns string) Patcher {
	return func(ctx context.Context, name string, body []byte) error {
		_, err := client.AppsV1().ControllerRevisions(ns).Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{})
		return err
	}
}

// Patching is the Owner for owner, a controller of kind apps/v1 kind: it
// rechecks the owner with get, and adopts and releases with AdoptPatch and
// ReleasePatch sent through patch.
func Patching(owner metav1.Object, kind string, sel labels.Selector, get func(context.Context) (metav1.Object, error), patch Patcher) Owner {
	ref := ControllerRef(owner, "apps/v1", kind)
	return Owner{Ref: ref, Deleting: owner.GetDeletionTimestamp() != nil, Selector: sel,
		Recheck: Recheck(owner.GetUID(), get),
		Adopt: func(ctx context.Context, obj metav1.Object) error {
			body, err := AdoptPatch(ref, obj.GetUID())
			if err != nil {
				return err
			}
			return patch(ctx, obj.GetName(), body)
		},
		Release: func(ctx context.Context, obj metav1.Object) error {
			body, err := ReleasePatch(owner.GetUID(), obj.GetUID())
			if err != nil {
				return err
			}
			return patch(ctx, obj.GetName(), body)
		},
	}
}
