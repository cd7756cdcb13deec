package volumemanager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ControlPlane is what the manager reads and writes of the storage
// control plane, with the node's credentials (volumes/doc.go, "Control
// plane"): the node may get its own VolumeAttachments, CSIDrivers, and
// get and update (the backing-file finalizer only) the local volumes
// that live on it.
type ControlPlane interface {
	Attachment(ctx context.Context, name string) (*storagev1.VolumeAttachment, error)
	CSIDriver(ctx context.Context, name string) (*storagev1.CSIDriver, error)
	Volume(ctx context.Context, name string) (*corev1.PersistentVolume, error)
	UpdateVolume(ctx context.Context, pv *corev1.PersistentVolume) (*corev1.PersistentVolume, error)
}

// NewControlPlane is the ControlPlane of an API client.
func NewControlPlane(client kubernetes.Interface) ControlPlane { return clientControlPlane{client} }

type clientControlPlane struct{ client kubernetes.Interface }

func (c clientControlPlane) Attachment(ctx context.Context, name string) (*storagev1.VolumeAttachment, error) {
	return c.client.StorageV1().VolumeAttachments().Get(ctx, name, metav1.GetOptions{})
}

func (c clientControlPlane) CSIDriver(ctx context.Context, name string) (*storagev1.CSIDriver, error) {
	return c.client.StorageV1().CSIDrivers().Get(ctx, name, metav1.GetOptions{})
}

func (c clientControlPlane) Volume(ctx context.Context, name string) (*corev1.PersistentVolume, error) {
	return c.client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
}

func (c clientControlPlane) UpdateVolume(ctx context.Context, pv *corev1.PersistentVolume) (*corev1.PersistentVolume, error) {
	return c.client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
}
