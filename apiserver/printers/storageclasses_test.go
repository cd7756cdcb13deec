package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

func TestStorageClassRow(t *testing.T) {
	retain := corev1.PersistentVolumeReclaimRetain
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	sc := &storagev1.StorageClass{ObjectMeta: objectMeta("fast"), Provisioner: "local.nodeagent.io"}
	checkCells(t, row(t, "storageclasses", sc), []interface{}{"fast", "local.nodeagent.io", "Delete", "Immediate", false, "10m"})
	sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	sc.ReclaimPolicy, sc.VolumeBindingMode, sc.AllowVolumeExpansion = &retain, &wffc, ptr(true)
	checkCells(t, row(t, "storageclasses", sc), []interface{}{"fast (default)", "local.nodeagent.io", "Retain", "WaitForFirstConsumer", true, "10m"})
}

func TestVolumeAttachmentRow(t *testing.T) {
	va := &storagev1.VolumeAttachment{ObjectMeta: objectMeta("csi-123"), Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "local.nodeagent.io", NodeName: "a", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pvc-1")}}}
	va.Status.Attached = true
	checkCells(t, row(t, "volumeattachments", va), []interface{}{"csi-123", "local.nodeagent.io", "pvc-1", "a", true, "10m"})
}

func TestCSIDriverRow(t *testing.T) {
	d := &storagev1.CSIDriver{ObjectMeta: objectMeta("local.nodeagent.io")}
	checkCells(t, row(t, "csidrivers", d), []interface{}{"local.nodeagent.io", false, false, false, "<unset>", false, "<none>", "10m"})
	d.Spec = storagev1.CSIDriverSpec{AttachRequired: ptr(true), PodInfoOnMount: ptr(true),
		TokenRequests:        []storagev1.TokenRequest{{Audience: "a"}, {Audience: "b"}},
		VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral}}
	checkCells(t, row(t, "csidrivers", d), []interface{}{"local.nodeagent.io", true, true, false, "a,b", false, "Persistent,Ephemeral", "10m"})
}

func TestStorageGroupColumns(t *testing.T) {
	for resource, want := range map[string]string{
		"storageclasses":    "NAME | PROVISIONER | RECLAIMPOLICY | VOLUMEBINDINGMODE | ALLOWVOLUMEEXPANSION | AGE",
		"volumeattachments": "NAME | ATTACHER | PV | NODE | ATTACHED | AGE",
		"csidrivers":        "NAME | ATTACHREQUIRED | PODINFOONMOUNT | STORAGECAPACITY | TOKENREQUESTS | REQUIRESREPUBLISH | MODES | AGE",
	} {
		p, ok := For(resource)
		if got := header(p.Columns(), false); !ok || got != want {
			t.Errorf("%s header\n got %q\nwant %q", resource, got, want)
		}
	}
}
