package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The storage.k8s.io/v1 printers, with kube-apiserver's columns.

// isDefaultClassAnnotation is kube's default StorageClass annotation; the
// beta one still counts.
const (
	isDefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	isDefaultClassAnnotationBeta = "storageclass.beta.kubernetes.io/is-default-class"
)

func storageClassPrinter() Printer {
	doc := storagev1.StorageClass{}.SwaggerDoc()
	return typed[*storagev1.StorageClass]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Provisioner", doc["provisioner"]),
			column("ReclaimPolicy", doc["reclaimPolicy"]),
			column("VolumeBindingMode", doc["volumeBindingMode"]),
			column("AllowVolumeExpansion", doc["allowVolumeExpansion"]),
			ageColumn(),
		},
		cells: storageClassCells,
	}
}

// storageClassCells: the default class's name says "(default)"; unset
// fields print as their defaults.
func storageClassCells(sc *storagev1.StorageClass, now time.Time) []interface{} {
	name := sc.Name
	if sc.Annotations[isDefaultClassAnnotation] == "true" || sc.Annotations[isDefaultClassAnnotationBeta] == "true" {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if sc.ReclaimPolicy != nil {
		reclaim = string(*sc.ReclaimPolicy)
	}
	mode := string(storagev1.VolumeBindingImmediate)
	if sc.VolumeBindingMode != nil {
		mode = string(*sc.VolumeBindingMode)
	}
	expand := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	return []interface{}{name, sc.Provisioner, reclaim, mode, expand, age(sc.CreationTimestamp, now)}
}

func volumeAttachmentPrinter() Printer {
	spec := storagev1.VolumeAttachmentSpec{}.SwaggerDoc()
	attacher := column("Attacher", spec["attacher"])
	attacher.Format = "name"
	attached := column("Attached", storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"])
	attached.Type = "boolean"
	return typed[*storagev1.VolumeAttachment]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(), attacher,
			column("PV", storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]),
			column("Node", spec["nodeName"]), attached, ageColumn(),
		},
		cells: func(va *storagev1.VolumeAttachment, now time.Time) []interface{} {
			return []interface{}{va.Name, va.Spec.Attacher, derefOr(va.Spec.Source.PersistentVolumeName, ""),
				va.Spec.NodeName, va.Status.Attached, age(va.CreationTimestamp, now)}
		},
	}
}

func csiDriverPrinter() Printer {
	doc := storagev1.CSIDriverSpec{}.SwaggerDoc()
	boolean := func(name, field string) metav1.TableColumnDefinition {
		c := column(name, doc[field])
		c.Type = "boolean"
		return c
	}
	return typed[*storagev1.CSIDriver]{
		columns: []metav1.TableColumnDefinition{
			nameColumn(), boolean("AttachRequired", "attachRequired"), boolean("PodInfoOnMount", "podInfoOnMount"),
			boolean("StorageCapacity", "storageCapacity"), column("TokenRequests", doc["tokenRequests"]),
			boolean("RequiresRepublish", "requiresRepublish"), column("Modes", doc["volumeLifecycleModes"]), ageColumn(),
		},
		cells: csiDriverCells,
	}
}

func csiDriverCells(d *storagev1.CSIDriver, now time.Time) []interface{} {
	is := func(b *bool) bool { return b != nil && *b }
	tokens := unset
	if len(d.Spec.TokenRequests) > 0 {
		auds := make([]string, len(d.Spec.TokenRequests))
		for i, tr := range d.Spec.TokenRequests {
			auds[i] = tr.Audience
		}
		tokens = strings.Join(auds, ",")
	}
	modes := make([]string, len(d.Spec.VolumeLifecycleModes))
	for i, m := range d.Spec.VolumeLifecycleModes {
		modes[i] = string(m)
	}
	return []interface{}{d.Name, is(d.Spec.AttachRequired), is(d.Spec.PodInfoOnMount), is(d.Spec.StorageCapacity),
		tokens, is(d.Spec.RequiresRepublish), orNone(strings.Join(modes, ",")), age(d.CreationTimestamp, now)}
}
