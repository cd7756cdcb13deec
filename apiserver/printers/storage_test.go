package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func storage(q string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(q)}
}

func TestPersistentVolumeRow(t *testing.T) {
	block := corev1.PersistentVolumeBlock
	tests := []struct {
		name string
		edit func(*corev1.PersistentVolume)
		want []interface{}
	}{
		{name: "bare", edit: func(*corev1.PersistentVolume) {},
			want: []interface{}{"pv-1", "0", "", "", "", "", "", "<unset>", "", "10m", "<unset>"}},
		{name: "bound", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.Capacity = storage("10Gi")
			pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadOnlyMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce}
			pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
			pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "default", Name: "data"}
			pv.Spec.StorageClassName = "local-path"
			pv.Spec.VolumeAttributesClassName = ptr("gold")
			pv.Spec.VolumeMode = &block
			pv.Status.Phase = corev1.VolumeBound
		}, want: []interface{}{"pv-1", "10Gi", "RWO,ROX,RWOP", "Retain", "Bound", "default/data", "local-path", "gold", "", "10m", "Block"}},
		{name: "failed, beta class annotation, terminating", edit: func(pv *corev1.PersistentVolume) {
			pv.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "old"}
			pv.Spec.StorageClassName = "new"
			pv.Status.Phase, pv.Status.Reason = corev1.VolumeFailed, "RecyclerFailed"
			pv.DeletionTimestamp = agoPtr(time.Second)
		}, want: []interface{}{"pv-1", "0", "", "", "Terminating", "", "old", "<unset>", "RecyclerFailed", "10m", "<unset>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pv := &corev1.PersistentVolume{ObjectMeta: objectMeta("pv-1")}
			tt.edit(pv)
			checkCells(t, row(t, "persistentvolumes", pv), tt.want)
		})
	}
}

func TestPersistentVolumeClaimRow(t *testing.T) {
	fs := corev1.PersistentVolumeFilesystem
	tests := []struct {
		name string
		edit func(*corev1.PersistentVolumeClaim)
		want []interface{}
	}{
		{name: "pending: no capacity or modes yet", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.StorageClassName = ptr("local-path")
			c.Status.Phase = corev1.ClaimPending
		}, want: []interface{}{"data", "Pending", "", "", "", "local-path", "<unset>", "10m", "Filesystem"}},
		{name: "bound", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.VolumeName = "pv-1"
			c.Spec.VolumeAttributesClassName = ptr("gold")
			c.Status.Phase = corev1.ClaimBound
			c.Status.Capacity = storage("5Gi")
			c.Status.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, want: []interface{}{"data", "Bound", "pv-1", "5Gi", "RWX", "", "gold", "10m", "Filesystem"}},
		{name: "terminating, annotation class", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "old"}
			c.Spec.StorageClassName = ptr("new")
			c.Spec.VolumeMode = nil
			c.Status.Phase = corev1.ClaimBound
			c.DeletionTimestamp = agoPtr(time.Second)
		}, want: []interface{}{"data", "Terminating", "", "", "", "old", "<unset>", "10m", "<unset>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &corev1.PersistentVolumeClaim{ObjectMeta: objectMeta("data")}
			c.Spec.VolumeMode = &fs
			c.Spec.Resources.Requests = storage("1Gi")
			tt.edit(c)
			checkCells(t, row(t, "persistentvolumeclaims", c), tt.want)
		})
	}
}

func TestStorageColumns(t *testing.T) {
	tests := []struct {
		resource, header, wide string
	}{
		{"persistentvolumes",
			"NAME | CAPACITY | ACCESS MODES | RECLAIM POLICY | STATUS | CLAIM | STORAGECLASS | VOLUMEATTRIBUTESCLASS | REASON | AGE",
			"NAME | CAPACITY | ACCESS MODES | RECLAIM POLICY | STATUS | CLAIM | STORAGECLASS | VOLUMEATTRIBUTESCLASS | REASON | AGE | VOLUMEMODE"},
		{"persistentvolumeclaims",
			"NAME | STATUS | VOLUME | CAPACITY | ACCESS MODES | STORAGECLASS | VOLUMEATTRIBUTESCLASS | AGE",
			"NAME | STATUS | VOLUME | CAPACITY | ACCESS MODES | STORAGECLASS | VOLUMEATTRIBUTESCLASS | AGE | VOLUMEMODE"},
	}
	for _, tt := range tests {
		p, _ := For(tt.resource)
		if got := header(p.Columns(), false); got != tt.header {
			t.Errorf("%s header\n got %q\nwant %q", tt.resource, got, tt.header)
		}
		if got := header(p.Columns(), true); got != tt.wide {
			t.Errorf("%s wide header\n got %q\nwant %q", tt.resource, got, tt.wide)
		}
	}
}
