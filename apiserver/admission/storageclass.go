package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
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
