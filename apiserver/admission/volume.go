package admission

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// admitVolume: of a persistentvolume, a node may only add or remove the
// backing-file finalizer, and only of a local.nodeagent.io volume that
// lives on it (its agent adds it before it creates the backing file and
// removes it once the file is gone). This goes beyond kube, which lets a
// node only read volumes.
func admitVolume(node string, a Attributes) error {
	if a.Operation != Update || a.Subresource != "" {
		return forbidden(a, fmt.Errorf("node %q may only update the %s finalizer of a persistentvolume", node, localvolume.BackingFinalizer))
	}
	pv, ok := a.Object.(*corev1.PersistentVolume)
	old, oldOK := a.Old.(*corev1.PersistentVolume)
	if !ok || !oldOK {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	if home, _ := localvolume.Node(old); home != node {
		return forbidden(a, fmt.Errorf("node %q may only update persistentvolumes that live on it", node))
	}
	if !equality.Semantic.DeepEqual(finalizerOnly(pv), finalizerOnly(old)) {
		return forbidden(a, fmt.Errorf("node %q may only add or remove the %s finalizer of persistentvolume %q", node, localvolume.BackingFinalizer, old.Name))
	}
	return nil
}

// finalizerOnly is what of a volume the node may not change: its metadata
// without the backing-file finalizer and what the server keeps anyway
// (resourceVersion, uid, timestamps, generation, managedFields), and its
// spec. The status of an update of the object is the stored one anyway.
func finalizerOnly(pv *corev1.PersistentVolume) *corev1.PersistentVolume {
	m := pv.ObjectMeta.DeepCopy()
	m.ResourceVersion, m.UID, m.Generation, m.ManagedFields, m.SelfLink = "", "", 0, nil, ""
	m.CreationTimestamp, m.DeletionTimestamp, m.DeletionGracePeriodSeconds = metav1.Time{}, nil, nil
	m.Finalizers = slices.DeleteFunc(m.Finalizers, func(f string) bool { return f == localvolume.BackingFinalizer })
	if len(m.Finalizers) == 0 {
		m.Finalizers = nil
	}
	return &corev1.PersistentVolume{ObjectMeta: *m, Spec: pv.Spec}
}
