package persistentvolume

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// mib: provisioned sizes are rounded up to whole MiB.
const mib = 1 << 20

// errNoNode: a local volume needs the node it will live on.
var errNoNode = errors.New("local.nodeagent.io volumes live on one node: the claim needs a node (volumeBindingMode WaitForFirstConsumer, " +
	"or allowedTopologies naming kubernetes.io/hostname)")

// provisionNode is the node a new local volume goes to: the node the
// scheduler selected for the claim, or with volumeBindingMode Immediate
// the first hostname the class's allowedTopologies names.
func provisionNode(c *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, exists func(string) bool) (string, error) {
	node := c.Annotations[AnnSelectedNode]
	if node == "" {
		node = topologyNode(class)
	}
	switch {
	case node == "":
		return "", errNoNode
	case exists != nil && !exists(node):
		return "", fmt.Errorf("failed to get target node: node %q not found", node)
	}
	return node, nil
}

func topologyNode(class *storagev1.StorageClass) string {
	for _, term := range class.AllowedTopologies {
		for _, e := range term.MatchLabelExpressions {
			if e.Key == localvolume.HostnameLabel && len(e.Values) > 0 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// VolumeName is the name of the volume provisioned for a claim, as kube's
// provisioners name it.
func VolumeName(c *corev1.PersistentVolumeClaim) string { return "pvc-" + string(c.UID) }

// NewVolume is the volume the local.nodeagent.io provisioner makes for a
// claim on node: a file of the requested size (rounded up to MiB) on that
// node, pre-bound to the claim, with the class's reclaim policy, mount
// options and filesystem (parameter csi.storage.k8s.io/fstype, ext4 by
// default; none for a block volume), and node affinity to the node.
func NewVolume(c *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node string) (*corev1.PersistentVolume, error) {
	req, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok || req.Sign() <= 0 {
		return nil, errors.New("the claim requests no storage")
	}
	size := (req.Value() + mib - 1) / mib * mib
	fsType := class.Parameters[localvolume.ParamFSType]
	if fsType == "" {
		fsType = localvolume.DefaultFSType
	}
	if fsType != "ext4" && fsType != "xfs" {
		return nil, fmt.Errorf("storage class %s: fsType %q is not supported: use ext4 or xfs", class.Name, fsType)
	}
	mode := volumeMode(c.Spec.VolumeMode)
	if mode == corev1.PersistentVolumeBlock {
		fsType = ""
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	name := VolumeName(c)
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{AnnProvisionedBy: localvolume.Driver}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: localvolume.Quantity(size)},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              class.Name,
			MountOptions:                  class.MountOptions,
			VolumeMode:                    &mode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace,
				Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: localvolume.Driver, VolumeHandle: name, FSType: fsType, VolumeAttributes: localvolume.Attributes(size)}},
			NodeAffinity: localvolume.NodeAffinity(node),
		},
	}, nil
}
