package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// volumeMounts checks that each mount names a pod volume and a unique
// mount path.
func volumeMounts(mounts []corev1.VolumeMount, vols map[string]corev1.VolumeSource, privileged bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		idx := fld.Index(i)
		errs = append(errs, volumeRef(m.Name, vols, idx.Child("name"))...)
		if m.MountPath == "" {
			errs = append(errs, field.Required(idx.Child("mountPath"), ""))
		}
		if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(idx.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		errs = append(errs, subPaths(m, idx)...)
		errs = append(errs, mountPropagation(m.MountPropagation, privileged, idx.Child("mountPropagation"))...)
		errs = append(errs, recursiveReadOnly(m, idx.Child("recursiveReadOnly"))...)
	}
	return errs
}

// volumeRef reports an empty name as Required and an unknown one as
// NotFound.
func volumeRef(name string, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	if _, ok := vols[name]; !ok {
		return field.ErrorList{field.NotFound(fld, name)}
	}
	return nil
}

func subPaths(m corev1.VolumeMount, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m.SubPath != "" {
		errs = append(errs, relativePath(m.SubPath, fld.Child("subPath"))...)
	}
	if m.SubPathExpr != "" {
		if m.SubPath != "" {
			errs = append(errs, field.Invalid(fld.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
		errs = append(errs, relativePath(m.SubPathExpr, fld.Child("subPathExpr"))...)
	}
	return errs
}

func mountPropagation(mode *corev1.MountPropagationMode, privileged bool, fld *field.Path) field.ErrorList {
	if mode == nil {
		return nil
	}
	if errs := enum(*mode, fld, corev1.MountPropagationNone, corev1.MountPropagationHostToContainer,
		corev1.MountPropagationBidirectional); len(errs) > 0 {
		return errs
	}
	if *mode == corev1.MountPropagationBidirectional && !privileged {
		return field.ErrorList{field.Forbidden(fld, "Bidirectional mount propagation is available only to privileged containers")}
	}
	return nil
}

func recursiveReadOnly(m corev1.VolumeMount, fld *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	mode := *m.RecursiveReadOnly
	if errs := enum(mode, fld, corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyIfPossible,
		corev1.RecursiveReadOnlyEnabled); len(errs) > 0 {
		return errs
	}
	if mode != corev1.RecursiveReadOnlyDisabled && !m.ReadOnly {
		return field.ErrorList{field.Forbidden(fld, "may only be specified when readOnly is true")}
	}
	return nil
}

// volumeDevices checks raw block devices: a known volume and a unique path.
func volumeDevices(devices []corev1.VolumeDevice, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, d := range devices {
		idx := fld.Index(i)
		errs = append(errs, volumeRef(d.Name, vols, idx.Child("name"))...)
		if d.DevicePath == "" {
			errs = append(errs, field.Required(idx.Child("devicePath"), ""))
		}
		if paths.Has(d.DevicePath) {
			errs = append(errs, field.Invalid(idx.Child("devicePath"), d.DevicePath, "must be unique"))
		}
		paths.Insert(d.DevicePath)
	}
	return errs
}
