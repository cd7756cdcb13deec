package apiserver

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

func localPV(name, node string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: apiresource.MustParse("1Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: localvolume.Driver, VolumeHandle: name, VolumeAttributes: localvolume.Attributes(1 << 30)}},
			NodeAffinity: localvolume.NodeAffinity(node)}}
}

// A node reads the local volumes that live on it and adds and removes
// their backing-file finalizer, nothing else; it reads the attachments of
// its own node. Another node gets 403 for all of it.
func TestNodeAndItsLocalVolumes(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin, n1, n2 := ts.admin(t), ts.node(t, "n1"), ts.node(t, "n2")
	if _, err := admin.CoreV1().PersistentVolumes().Create(bg, localPV("pv-n1", "n1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pv, err := n1.CoreV1().PersistentVolumes().Get(bg, "pv-n1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("n1 reads its volume: %v", err)
	}
	pv.Finalizers = append(pv.Finalizers, localvolume.BackingFinalizer)
	if pv, err = n1.CoreV1().PersistentVolumes().Update(bg, pv, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("n1 adds its finalizer: %v", err)
	}
	pv.Spec.Capacity = corev1.ResourceList{corev1.ResourceStorage: apiresource.MustParse("2Gi")}
	_, err = n1.CoreV1().PersistentVolumes().Update(bg, pv, metav1.UpdateOptions{})
	wantForbidden(t, "n1 resizes", err, `persistentvolumes "pv-n1" is forbidden: node "n1" may only add or remove the local.nodeagent.io/backing-file finalizer of persistentvolume "pv-n1"`)
	_, err = n2.CoreV1().PersistentVolumes().Get(bg, "pv-n1", metav1.GetOptions{})
	wantForbidden(t, "n2 reads", err, `persistentvolumes "pv-n1" is forbidden: User "system:node:n2" cannot get resource "persistentvolumes" in API group "" at the cluster scope: node: no relationship found between node 'n2' and this object`)
	_, err = n2.CoreV1().PersistentVolumes().Patch(bg, "pv-n1", "application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	wantForbidden(t, "n2 patches", err, `persistentvolumes "pv-n1" is forbidden: User "system:node:n2" cannot patch resource "persistentvolumes" in API group "" at the cluster scope: node: no relationship found between node 'n2' and this object`)
	_, err = n1.CoreV1().PersistentVolumes().Patch(bg, "pv-n1", "application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	wantForbidden(t, "n1 drops the protection finalizer", err, `persistentvolumes "pv-n1" is forbidden: node "n1" may only add or remove the local.nodeagent.io/backing-file finalizer of persistentvolume "pv-n1"`)

	// Deleting keeps the volume while the node's finalizer is there.
	if err := admin.CoreV1().PersistentVolumes().Delete(bg, "pv-n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	pv, err = n1.CoreV1().PersistentVolumes().Get(bg, "pv-n1", metav1.GetOptions{})
	if err != nil || pv.DeletionTimestamp == nil {
		t.Fatalf("n1 reads its deleting volume: %v", err)
	}
	pv.Finalizers = slices.DeleteFunc(pv.Finalizers, func(f string) bool { return f == localvolume.BackingFinalizer })
	if _, err := n1.CoreV1().PersistentVolumes().Update(bg, pv, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("n1 removes its finalizer: %v", err)
	}

	pvName := "pv-n1"
	for _, node := range []string{"n1", "n2"} {
		va := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va-" + node},
			Spec: storagev1.VolumeAttachmentSpec{Attacher: localvolume.Driver, NodeName: node, Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pvName}}}
		if _, err := admin.StorageV1().VolumeAttachments().Create(bg, va, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n1.StorageV1().VolumeAttachments().Get(bg, "va-n1", metav1.GetOptions{}); err != nil {
		t.Errorf("n1 reads its attachment: %v", err)
	}
	_, err = n1.StorageV1().VolumeAttachments().Get(bg, "va-n2", metav1.GetOptions{})
	wantForbidden(t, "n1 reads n2's attachment", err, `volumeattachments.storage.k8s.io "va-n2" is forbidden: User "system:node:n1" cannot get resource "volumeattachments" in API group "storage.k8s.io" at the cluster scope: node: no relationship found between node 'n1' and this object`)
	_, err = n1.StorageV1().VolumeAttachments().List(bg, metav1.ListOptions{})
	wantForbidden(t, "n1 lists attachments", err, `volumeattachments.storage.k8s.io is forbidden: User "system:node:n1" cannot list resource "volumeattachments" in API group "storage.k8s.io" at the cluster scope: node: can only get individual resources of this type`)
	if _, err := n1.StorageV1().CSIDrivers().List(bg, metav1.ListOptions{}); err != nil {
		t.Errorf("n1 lists CSI drivers: %v", err)
	}
	_, err = n1.StorageV1().StorageClasses().List(bg, metav1.ListOptions{})
	wantForbidden(t, "n1 lists classes", err, `storageclasses.storage.k8s.io is forbidden: User "system:node:n1" cannot list resource "storageclasses" in API group "storage.k8s.io" at the cluster scope`)
}
