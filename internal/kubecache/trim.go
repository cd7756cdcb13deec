// Package kubecache holds what every informer cache in nodeagent shares.
package kubecache

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
)

// DropManagedFields removes an object's managedFields before an informer
// stores it: no controller, agent part or proxy reads them, and they are
// often the largest part of an object's metadata (kube-scheduler and
// kube-controller-manager trim them from their caches for the same reason).
// An update sent from such a copy still keeps the stored managedFields: a
// write without them leaves them as they are, in kube-apiserver and ours.
// Objects without metadata (a tombstone) pass through unchanged.
func DropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// Trimmed is the informer factory option that applies DropManagedFields.
func Trimmed() informers.SharedInformerOption { return informers.WithTransform(DropManagedFields) }
