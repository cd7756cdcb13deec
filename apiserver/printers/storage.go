package printers

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func persistentVolumePrinter() Printer {
	spec := corev1.PersistentVolumeSpec{}.SwaggerDoc()
	status := corev1.PersistentVolumeStatus{}.SwaggerDoc()
	return typed[*corev1.PersistentVolume]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Capacity", spec["capacity"]),
			column("Access Modes", spec["accessModes"]),
			column("Reclaim Policy", spec["persistentVolumeReclaimPolicy"]),
			column("Status", status["phase"]),
			column("Claim", spec["claimRef"]),
			column("StorageClass", "StorageClass of the pv"),
			column("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
			column("Reason", status["reason"]),
			ageColumn(),
			wide(column("VolumeMode", spec["volumeMode"])),
		},
		cells: persistentVolumeCells,
	}
}

func persistentVolumeCells(pv *corev1.PersistentVolume, now time.Time) []interface{} {
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	return []interface{}{
		pv.Name,
		capacity.String(),
		accessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy),
		phaseOrTerminating(string(pv.Status.Phase), pv.DeletionTimestamp),
		claimRef(pv.Spec.ClaimRef),
		storageClass(pv.Annotations, &pv.Spec.StorageClassName),
		derefOr(pv.Spec.VolumeAttributesClassName, unset),
		pv.Status.Reason,
		age(pv.CreationTimestamp, now),
		volumeMode(pv.Spec.VolumeMode),
	}
}

func persistentVolumeClaimPrinter() Printer {
	spec := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()
	status := corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	return typed[*corev1.PersistentVolumeClaim]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Status", status["phase"]),
			column("Volume", spec["volumeName"]),
			column("Capacity", status["capacity"]),
			column("Access Modes", status["accessModes"]),
			column("StorageClass", "StorageClass of the pvc"),
			column("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
			ageColumn(),
			wide(column("VolumeMode", spec["volumeMode"])),
		},
		cells: persistentVolumeClaimCells,
	}
}

// persistentVolumeClaimCells: capacity and access modes are the bound
// volume's, from status, and empty until the claim names a volume.
func persistentVolumeClaimCells(c *corev1.PersistentVolumeClaim, now time.Time) []interface{} {
	var capacity, modes string
	if c.Spec.VolumeName != "" {
		q := c.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), accessModes(c.Status.AccessModes)
	}
	return []interface{}{
		c.Name,
		phaseOrTerminating(string(c.Status.Phase), c.DeletionTimestamp),
		c.Spec.VolumeName,
		capacity,
		modes,
		storageClass(c.Annotations, c.Spec.StorageClassName),
		derefOr(c.Spec.VolumeAttributesClassName, unset),
		age(c.CreationTimestamp, now),
		volumeMode(c.Spec.VolumeMode),
	}
}

// accessModes abbreviates access modes in a fixed order: "RWO,ROX,RWX,RWOP".
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	order := []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	}
	var out []string
	for _, o := range order {
		if slices.Contains(modes, o.mode) {
			out = append(out, o.short)
		}
	}
	return strings.Join(out, ",")
}

// phaseOrTerminating is the phase, or "Terminating" once deletion started.
func phaseOrTerminating(phase string, deleted *metav1.Time) string {
	if deleted != nil {
		return "Terminating"
	}
	return phase
}

// claimRef is "namespace/name" of the bound claim, "" when unbound.
func claimRef(ref *corev1.ObjectReference) string {
	if ref == nil {
		return ""
	}
	return ref.Namespace + "/" + ref.Name
}

// storageClass prefers the beta annotation over the spec field, as kube
// does.
func storageClass(annotations map[string]string, name *string) string {
	if class, ok := annotations[corev1.BetaStorageClassAnnotation]; ok {
		return class
	}
	return derefOr(name, "")
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return unset
	}
	return string(*m)
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
