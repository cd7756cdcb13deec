// Package localvolume names the parts of nodeagent's own volume driver,
// local.nodeagent.io, that the server and the nodes agree on: the driver
// and default class names, the attributes of a provisioned volume, the
// finalizer that guards its backing file, and how a volume names its node.
// volumes/doc.go ("control plane") describes the whole contract.
package localvolume

import (
	"crypto/sha256"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const (
	// Driver is the CSI driver name, provisioner and attacher.
	Driver = "local.nodeagent.io"
	// DefaultClass is the default StorageClass, made at server start.
	DefaultClass = "nodeagent-local"
	// BackingFinalizer is on a volume whose backing file exists on its
	// node: the node's agent adds it before it creates the file and removes
	// it once the file is gone.
	BackingFinalizer = "local.nodeagent.io/backing-file"

	// AttrBacking is the volume attribute saying what backs the volume;
	// BackingFile is the one value: a sparse file on the node.
	AttrBacking = "backing"
	BackingFile = "file"
	// AttrSize is the attribute with the backing file's size in bytes.
	AttrSize = "size"

	// ParamFSType is the StorageClass parameter naming the filesystem
	// (kube's csi.storage.k8s.io/fstype); DefaultFSType when absent.
	ParamFSType   = "csi.storage.k8s.io/fstype"
	DefaultFSType = "ext4"

	// HostnameLabel is the node label a volume's node affinity names.
	HostnameLabel = corev1.LabelHostname
)

// Attributes are a provisioned volume's volumeAttributes for size bytes.
func Attributes(size int64) map[string]string {
	return map[string]string{AttrBacking: BackingFile, AttrSize: strconv.FormatInt(size, 10)}
}

// Size is the bytes a volume of this driver has: its size attribute, else
// its capacity.
func Size(pv *corev1.PersistentVolume) int64 {
	if src := pv.Spec.CSI; src != nil {
		if n, err := strconv.ParseInt(src.VolumeAttributes[AttrSize], 10, 64); err == nil {
			return n
		}
	}
	q := pv.Spec.Capacity[corev1.ResourceStorage]
	return q.Value()
}

// IsLocal reports whether pv is a volume of this driver.
func IsLocal(pv *corev1.PersistentVolume) bool {
	return pv.Spec.CSI != nil && pv.Spec.CSI.Driver == Driver
}

// NodeAffinity pins a volume to node by its hostname label.
func NodeAffinity(node string) *corev1.VolumeNodeAffinity {
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: HostnameLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
	}}}}
}

// Node is the one node a volume of this driver lives on: its node
// affinity is a single term with a single "hostname In [node]" expression.
// Any other shape names no node.
func Node(pv *corev1.PersistentVolume) (string, bool) {
	if !IsLocal(pv) || pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return "", false
	}
	terms := pv.Spec.NodeAffinity.Required.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchFields) != 0 || len(terms[0].MatchExpressions) != 1 {
		return "", false
	}
	e := terms[0].MatchExpressions[0]
	if e.Key != HostnameLabel || e.Operator != corev1.NodeSelectorOpIn || len(e.Values) != 1 || e.Values[0] == "" {
		return "", false
	}
	return e.Values[0], true
}

// Quantity is size bytes as a capacity.
func Quantity(size int64) resource.Quantity {
	return *resource.NewQuantity(size, resource.BinarySI)
}

// AttachmentName is the name of the VolumeAttachment of a CSI volume
// (its volume handle and driver) to a node, as kube's CSI attacher names
// it: "csi-" and the hex SHA-256 of handle, driver and node run together.
func AttachmentName(handle, driver, node string) string {
	return fmt.Sprintf("csi-%x", sha256.Sum256([]byte(handle+driver+node)))
}
