package volumemanager

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/localvolume"
	"github.com/nodeagent/nodeagent/volumes"
	"github.com/nodeagent/nodeagent/volumes/localdriver"
)

// volumeKind is how the manager sets a volume up.
type volumeKind int

const (
	kindEmptyDir volumeKind = iota // a directory, or a tmpfs (medium Memory)
	kindHostPath                   // checked, given as it is
	kindFiles                      // configMap, secret, downwardAPI, projected: the atomic writer
	kindCSI                        // staged and published by a NodePlugin
)

// desiredVolume is one volume of a pod, resolved as far as the manager
// needs: a claim is resolved to its PersistentVolume's CSI request.
type desiredVolume struct {
	name string
	kind volumeKind
	src  corev1.Volume
	// files: the volume's plugin directory; hostPath: the source.
	filesKind volumes.Kind
	hostPath  *corev1.HostPathVolumeSource
	csi       *csiVolume
}

// csiVolume is what staging and publishing a PersistentVolume takes.
type csiVolume struct {
	key        stagingKey
	pvName     string
	capability volumes.VolumeCapability
	attrs      map[string]string
	readOnly   bool
	// ownership: the pod's fsGroup is applied after publish (kubelet's
	// ReadWriteOnceWithFSType policy: a filesystem of a named type,
	// writable by one node).
	ownership bool
	// csiSource: the volume has a spec.csi source (attached by the
	// attach/detach controller), not a spec.local one.
	csiSource bool
	// home is the node a local.nodeagent.io volume lives on, by its node
	// affinity ("" for none or another shape).
	home string
}

// claimName is the claim a volume uses: its persistentVolumeClaim, or a
// generic ephemeral volume's <pod>-<volume>.
func claimName(pod *corev1.Pod, v corev1.Volume) (string, bool) {
	switch {
	case v.PersistentVolumeClaim != nil:
		return v.PersistentVolumeClaim.ClaimName, true
	case v.Ephemeral != nil:
		return pod.Name + "-" + v.Name, true
	}
	return "", false
}

// plainVolume resolves a volume that needs no API lookup; a claim is
// (nil, nil): resolved by the reconciler through the Source.
func plainVolume(v corev1.Volume) (*desiredVolume, error) {
	d := &desiredVolume{name: v.Name, src: v}
	switch {
	case v.EmptyDir != nil:
		d.kind = kindEmptyDir
	case v.HostPath != nil:
		d.kind, d.hostPath = kindHostPath, v.HostPath
	case v.ConfigMap != nil:
		d.kind, d.filesKind = kindFiles, volumes.KindConfigMap
	case v.Secret != nil:
		d.kind, d.filesKind = kindFiles, volumes.KindSecret
	case v.DownwardAPI != nil:
		d.kind, d.filesKind = kindFiles, volumes.KindDownwardAPI
	case v.Projected != nil:
		d.kind, d.filesKind = kindFiles, volumes.KindProjected
	case v.PersistentVolumeClaim != nil, v.Ephemeral != nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("volume %q: %s volumes are not supported by nodeagent", v.Name, volumeType(v))
	}
	return d, nil
}

// volumeType names a volume's type as its field in the API does.
func volumeType(v corev1.Volume) string {
	switch {
	case v.CSI != nil:
		return "inline csi"
	case v.NFS != nil:
		return "nfs"
	case v.ISCSI != nil:
		return "iscsi"
	case v.Image != nil:
		return "image"
	}
	return "this type of"
}

// claimVolume resolves a claim's bound PersistentVolume into the volume's
// CSI request. readOnly is the pod's persistentVolumeClaim.readOnly.
func claimVolume(v corev1.Volume, pv *corev1.PersistentVolume, readOnly bool, fsGroup *int64) (*desiredVolume, error) {
	d := &desiredVolume{name: v.Name, src: v}
	if pv.Spec.HostPath != nil {
		d.kind, d.hostPath = kindHostPath, pv.Spec.HostPath
		return d, nil
	}
	c, err := csiRequest(pv)
	if err != nil {
		return nil, err
	}
	c.readOnly = c.readOnly || readOnly
	c.ownership = fsGroup != nil && !c.capability.Block && !c.readOnly && c.capability.FsType != "" && writableByOneNode(pv)
	d.kind, d.csi = kindCSI, c
	return d, nil
}

// csiRequest maps a PersistentVolume onto a driver's request: a CSI
// source as it is, a local one onto local.nodeagent.io (its path a block
// device or a directory).
func csiRequest(pv *corev1.PersistentVolume) (*csiVolume, error) {
	c := &csiVolume{pvName: pv.Name, capability: volumes.VolumeCapability{
		Block: pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode == corev1.PersistentVolumeBlock, MountFlags: pv.Spec.MountOptions,
		AccessMode: accessMode(pv.Spec.AccessModes)}}
	switch s := pv.Spec.PersistentVolumeSource; {
	case s.CSI != nil:
		c.key = stagingKey{driver: s.CSI.Driver, handle: s.CSI.VolumeHandle}
		c.attrs, c.capability.FsType, c.readOnly = s.CSI.VolumeAttributes, s.CSI.FSType, s.CSI.ReadOnly
		c.csiSource = true
		c.home, _ = localvolume.Node(pv)
	case s.Local != nil:
		c.key = stagingKey{driver: localdriver.Name, handle: pv.Name}
		c.attrs = map[string]string{localdriver.AttrBacking: localdriver.BackingLocal, localdriver.AttrPath: s.Local.Path}
		if s.Local.FSType != nil {
			c.capability.FsType = *s.Local.FSType
		}
	default:
		return nil, fmt.Errorf("PersistentVolume %s: its volume source is not supported by nodeagent (csi, local and hostPath are)", pv.Name)
	}
	if err := volumes.ValidName(c.key.driver); err != nil { // it names a directory
		return nil, fmt.Errorf("PersistentVolume %s: CSI driver name: %w", pv.Name, err)
	}
	if c.capability.Block {
		c.capability.FsType = ""
	} else if c.capability.FsType == "" && c.key.driver == localdriver.Name {
		c.capability.FsType = localdriver.DefaultFsType
	}
	return c, nil
}

func writableByOneNode(pv *corev1.PersistentVolume) bool {
	for _, m := range pv.Spec.AccessModes {
		if m == corev1.ReadWriteOnce || m == corev1.ReadWriteOncePod {
			return true
		}
	}
	return false
}

// accessMode is kubelet's mapping of a PV's access modes onto CSI's.
func accessMode(modes []corev1.PersistentVolumeAccessMode) volumes.AccessMode {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	switch {
	case has[corev1.ReadWriteOncePod]:
		return volumes.SingleNodeSingleWriter
	case has[corev1.ReadWriteMany]:
		return volumes.MultiNodeMultiWriter
	case has[corev1.ReadOnlyMany] && !has[corev1.ReadWriteOnce]:
		return volumes.MultiNodeReaderOnly
	}
	return volumes.SingleNodeWriter
}

// refreshes says whether a volume is set up again now and then: its
// content follows the API (configMap, secret, projected, downwardAPI), or
// its usage is watched (an emptyDir on disk with a sizeLimit).
func (d *desiredVolume) refreshes() bool { return d.kind == kindFiles || d.watchesUsage() }

// watchesUsage: an emptyDir on disk with a sizeLimit (one in memory is a
// tmpfs of that size: the kernel holds the limit).
func (d *desiredVolume) watchesUsage() bool {
	e := d.src.EmptyDir
	return d.kind == kindEmptyDir && e != nil && e.SizeLimit != nil && e.Medium != corev1.StorageMediumMemory
}

// String names a volume for logs and events.
func (d *desiredVolume) String() string {
	if d.csi != nil {
		return fmt.Sprintf("%q (%s %s)", d.name, d.csi.key.driver, d.csi.pvName)
	}
	return fmt.Sprintf("%q", d.name)
}

// bracketed lists names as kubelet's messages do: [a b].
func bracketed(names []string) string { return "[" + strings.Join(names, " ") + "]" }
