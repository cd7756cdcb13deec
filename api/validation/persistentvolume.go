package validation

import (
	"path"
	"slices"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func accessModes() []corev1.PersistentVolumeAccessMode {
	return []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany, corev1.ReadWriteMany,
		corev1.ReadWriteOnce, corev1.ReadWriteOncePod}
}

func volumeModes() []corev1.PersistentVolumeMode {
	return []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}
}

// PersistentVolume validates a persistent volume on create.
func PersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	errs := ObjectMeta(&pv.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
	spec, fld := &pv.Spec, field.NewPath("spec")
	errs = append(errs, accessModeList(spec.AccessModes, fld.Child("accessModes"), "")...)
	errs = append(errs, capacity(spec.Capacity, fld.Child("capacity"))...)
	if spec.StorageClassName != "" {
		errs = append(errs, dnsSubdomain(spec.StorageClassName, fld.Child("storageClassName"))...)
	}
	if spec.VolumeMode != nil {
		errs = append(errs, enum(*spec.VolumeMode, fld.Child("volumeMode"), volumeModes()...)...)
	}
	errs = append(errs, optionalEnum(spec.PersistentVolumeReclaimPolicy, fld.Child("persistentVolumeReclaimPolicy"),
		corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain)...)
	errs = append(errs, persistentVolumeSource(spec, fld)...)
	if spec.Local != nil && spec.NodeAffinity == nil {
		errs = append(errs, field.Required(fld.Child("nodeAffinity"), "Local volume requires node affinity"))
	}
	if spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" &&
		spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		errs = append(errs, field.Forbidden(fld.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	return errs
}

// accessModeList needs at least one known mode, and ReadWriteOncePod alone.
func accessModeList(modes []corev1.PersistentVolumeAccessMode, fld *field.Path, requiredMsg string) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(fld, requiredMsg)}
	}
	var errs field.ErrorList
	for _, m := range modes {
		if !slices.Contains(accessModes(), m) {
			errs = append(errs, field.NotSupported(fld, m, accessModes()))
		}
	}
	if slices.Contains(modes, corev1.ReadWriteOncePod) && len(modes) > 1 {
		errs = append(errs, field.Forbidden(fld, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

// capacity must hold storage, and only storage, greater than zero.
func capacity(c corev1.ResourceList, fld *field.Path) field.ErrorList {
	if len(c) == 0 {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	if _, ok := c[corev1.ResourceStorage]; !ok || len(c) > 1 {
		errs = append(errs, field.NotSupported(fld, c, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for _, name := range sortedKeys(c) {
		errs = append(errs, positiveQuantity(c[name], fld.Key(string(name)))...)
	}
	return errs
}

func positiveQuantity(q resource.Quantity, fld *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(fld, q.String(), positiveMsg)}
	}
	return nil
}

// persistentVolumeSource checks that exactly one source is set, and the
// common ones.
func persistentVolumeSource(spec *corev1.PersistentVolumeSpec, fld *field.Path) field.ErrorList {
	src := &spec.PersistentVolumeSource
	if errs := exactlyOne(fld, setMembers(src), noVolumeTypeMsg, manyVolumeTypeMsg); len(errs) > 0 {
		return errs
	}
	switch {
	case src.HostPath != nil:
		return hostPathSource(src.HostPath, fld.Child("hostPath"))
	case src.Local != nil:
		lp := fld.Child("local", "path")
		return append(requiredString(src.Local.Path, lp), noBacksteps(src.Local.Path, lp)...)
	case src.NFS != nil:
		return nfsSource(src.NFS, fld.Child("nfs"))
	case src.CSI != nil:
		errs := csiDriver(src.CSI.Driver, fld.Child("csi", "driver"))
		return append(errs, requiredString(src.CSI.VolumeHandle, fld.Child("csi", "volumeHandle"))...)
	}
	return nil
}

// PersistentVolumeClaim validates a claim on create.
func PersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
	errs := ObjectMeta(&pvc.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain)
	return append(errs, claimSpec(&pvc.Spec, field.NewPath("spec"))...)
}

func claimSpec(spec *corev1.PersistentVolumeClaimSpec, fld *field.Path) field.ErrorList {
	errs := accessModeList(spec.AccessModes, fld.Child("accessModes"), "at least 1 access mode is required")
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector,
			metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	}
	// kube-apiserver reports the storage request at spec.resources[storage].
	storagePath := fld.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; ok {
		errs = append(errs, positiveQuantity(q, storagePath)...)
	} else {
		errs = append(errs, field.Required(storagePath, ""))
	}
	if spec.StorageClassName != nil && *spec.StorageClassName != "" {
		errs = append(errs, dnsSubdomain(*spec.StorageClassName, fld.Child("storageClassName"))...)
	}
	if spec.VolumeMode != nil {
		errs = append(errs, enum(*spec.VolumeMode, fld.Child("volumeMode"), volumeModes()...)...)
	}
	return errs
}

// PersistentVolumeClaimUpdate validates an update of a claim, as kube's
// ValidatePersistentVolumeClaimUpdate: the create rules, and a spec that
// stays but for a volumeName or class set where there was none, and, once
// bound, a larger storage request or another volumeAttributesClassName.
func PersistentVolumeClaimUpdate(c, old *corev1.PersistentVolumeClaim) field.ErrorList {
	errs := append(ObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta), PersistentVolumeClaim(c)...)
	spec, oldSpec := c.Spec.DeepCopy(), old.Spec.DeepCopy()
	if oldSpec.VolumeName == "" {
		oldSpec.VolumeName = spec.VolumeName
	}
	if _, annotated := old.Annotations[corev1.BetaStorageClassAnnotation]; oldSpec.StorageClassName == nil && !annotated {
		oldSpec.StorageClassName = spec.StorageClassName
	}
	if c.Status.Phase == corev1.ClaimBound {
		if spec.Resources.Requests != nil {
			spec.Resources.Requests[corev1.ResourceStorage] = old.Spec.Resources.Requests[corev1.ResourceStorage]
		}
		oldSpec.VolumeAttributesClassName = spec.VolumeAttributesClassName
	}
	if !equality.Semantic.DeepEqual(spec, oldSpec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"),
			"spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"+cmp.Diff(oldSpec, spec)))
	}
	size, oldSize := c.Spec.Resources.Requests[corev1.ResourceStorage], old.Spec.Resources.Requests[corev1.ResourceStorage]
	if size.Cmp(oldSize) < 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than previous value"))
	}
	return errs
}
