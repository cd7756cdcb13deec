package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Default StorageClass annotations: the GA one and the beta one kube still
// honours.
const (
	IsDefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	IsDefaultClassAnnotationBeta = "storageclass.beta.kubernetes.io/is-default-class"
)

// StorageClasses lists the stored StorageClasses.
type StorageClasses interface {
	StorageClasses(ctx context.Context) ([]*storagev1.StorageClass, error)
}

// DefaultStorageClass is kube's DefaultStorageClass admission plugin: a
// new claim that names no class (neither spec.storageClassName, not even
// "", nor the beta annotation) gets the default class, the newest one
// when several are marked default. Without a default class the claim is
// left alone.
func DefaultStorageClass(ctx context.Context, a Attributes, classes StorageClasses) error {
	claim, ok := a.Object.(*corev1.PersistentVolumeClaim)
	if a.Operation != Create || a.Resource != claimsResource || a.Subresource != "" || !ok || hasClass(claim) {
		return nil
	}
	list, err := classes.StorageClasses(ctx)
	if err != nil {
		return forbidden(a, fmt.Errorf("error finding default StorageClass: %w", err))
	}
	if def := DefaultClass(list); def != nil {
		claim.Spec.StorageClassName = &def.Name
	}
	return nil
}

func hasClass(c *corev1.PersistentVolumeClaim) bool {
	_, annotated := c.Annotations[corev1.BetaStorageClassAnnotation]
	return annotated || c.Spec.StorageClassName != nil
}

// IsDefaultClass reports whether the class is marked default.
func IsDefaultClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[IsDefaultClassAnnotation] == "true" || sc.Annotations[IsDefaultClassAnnotationBeta] == "true"
}

// DefaultClass is the default among classes, as kube picks it: of those
// marked default, the most recently created; on a tie, the first by name.
func DefaultClass(classes []*storagev1.StorageClass) *storagev1.StorageClass {
	var def *storagev1.StorageClass
	for _, sc := range classes {
		if !IsDefaultClass(sc) {
			continue
		}
		if def == nil || sc.CreationTimestamp.After(def.CreationTimestamp.Time) ||
			(sc.CreationTimestamp.Equal(&def.CreationTimestamp) && sc.Name < def.Name) {
			def = sc
		}
	}
	return def
}

// Finalizers of kube's StorageObjectInUseProtection admission.
const (
	claimProtectionFinalizer  = "kubernetes.io/pvc-protection"
	volumeProtectionFinalizer = "kubernetes.io/pv-protection"
)

// StorageObjectInUseProtection is kube's admission plugin of that name: a
// new claim gets the pvc-protection finalizer and a new volume the
// pv-protection one, which the volume controller removes once the object
// is no longer in use (no pod uses the claim; the volume is not bound).
func StorageObjectInUseProtection(a Attributes) {
	if a.Operation != Create || a.Subresource != "" {
		return
	}
	var m *metav1.ObjectMeta
	var finalizer string
	switch o := a.Object.(type) {
	case *corev1.PersistentVolumeClaim:
		m, finalizer = &o.ObjectMeta, claimProtectionFinalizer
	case *corev1.PersistentVolume:
		m, finalizer = &o.ObjectMeta, volumeProtectionFinalizer
	default:
		return
	}
	if !slices.Contains(m.Finalizers, finalizer) {
		m.Finalizers = append(m.Finalizers, finalizer)
	}
}

// PersistentVolumeClaimResize is kube's admission plugin of that name: a
// claim's storage request may grow only once it is bound, and only if its
// class allows volume expansion (nodeagent-local does not).
func PersistentVolumeClaimResize(ctx context.Context, a Attributes, classes StorageClasses) error {
	claim, ok := a.Object.(*corev1.PersistentVolumeClaim)
	old, oldOK := a.Old.(*corev1.PersistentVolumeClaim)
	if a.Operation != Update || a.Resource != claimsResource || a.Subresource != "" || !ok || !oldOK {
		return nil
	}
	size, oldSize := claim.Spec.Resources.Requests[corev1.ResourceStorage], old.Spec.Resources.Requests[corev1.ResourceStorage]
	if size.Cmp(oldSize) <= 0 {
		return nil
	}
	if old.Status.Phase != corev1.ClaimBound {
		return forbidden(a, errors.New("Only bound persistent volume claims can be expanded"))
	}
	list, err := classes.StorageClasses(ctx)
	if err != nil {
		return forbidden(a, err)
	}
	name := ""
	if claim.Spec.StorageClassName != nil {
		name = *claim.Spec.StorageClassName
	}
	for _, sc := range list {
		if sc.Name == name && name != "" && sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion {
			return nil
		}
	}
	return forbidden(a, errors.New("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"))
}
