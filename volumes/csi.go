package volumes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
)

// NodePlugin is the node half of a volume driver, shaped as the CSI Node
// service (csi.proto: NodeStageVolume, NodeUnstageVolume,
// NodePublishVolume, NodeUnpublishVolume) so that a gRPC client of a real
// CSI node plugin can sit behind it. The agent's volume manager calls it
// as kubelet's CSI plugin does: stage once per node at the staging path,
// publish into each pod that uses the volume, unpublish each, unstage
// when no pod is left. Every call is idempotent: the manager repeats one
// after an error, a restart or a crash at any point.
type NodePlugin interface {
	NodeStageVolume(ctx context.Context, req *NodeStageVolumeRequest) error
	NodeUnstageVolume(ctx context.Context, req *NodeUnstageVolumeRequest) error
	NodePublishVolume(ctx context.Context, req *NodePublishVolumeRequest) error
	NodeUnpublishVolume(ctx context.Context, req *NodeUnpublishVolumeRequest) error
}

// VolumeCapability is csi.VolumeCapability: a block device, or a
// filesystem of a type with mount flags.
type VolumeCapability struct {
	Block      bool     // AccessType block: the device itself
	FsType     string   // mount: the filesystem type ("" for the driver's default)
	MountFlags []string // mount: the PV's mountOptions
	// VolumeMountGroup is the pod's fsGroup (csi VOLUME_MOUNT_GROUP); ""
	// for none. The agent applies it after publish (see SetOwnership).
	VolumeMountGroup string
	AccessMode       AccessMode
}

// AccessMode is csi.VolumeCapability.AccessMode.Mode, from the PV's
// access modes.
type AccessMode string

// The access modes.
const (
	SingleNodeWriter       AccessMode = "SINGLE_NODE_WRITER"        // ReadWriteOnce
	SingleNodeMultiWriter  AccessMode = "SINGLE_NODE_MULTI_WRITER"  // ReadWriteOncePod
	MultiNodeReaderOnly    AccessMode = "MULTI_NODE_READER_ONLY"    // ReadOnlyMany
	MultiNodeMultiWriter   AccessMode = "MULTI_NODE_MULTI_WRITER"   // ReadWriteMany
	SingleNodeSingleWriter AccessMode = "SINGLE_NODE_SINGLE_WRITER" // ReadWriteOncePod
)

// NodeStageVolumeRequest is csi.NodeStageVolumeRequest.
type NodeStageVolumeRequest struct {
	VolumeID          string
	PublishContext    map[string]string
	StagingTargetPath string // a directory the caller made
	VolumeCapability  VolumeCapability
	VolumeContext     map[string]string // the PV's volumeAttributes
}

// NodeUnstageVolumeRequest is csi.NodeUnstageVolumeRequest.
type NodeUnstageVolumeRequest struct {
	VolumeID          string
	StagingTargetPath string
}

// NodePublishVolumeRequest is csi.NodePublishVolumeRequest. TargetPath's
// parent exists; the plugin makes TargetPath (a directory, or a file for
// a block volume) and mounts there.
type NodePublishVolumeRequest struct {
	VolumeID          string
	PublishContext    map[string]string
	StagingTargetPath string
	TargetPath        string
	VolumeCapability  VolumeCapability
	Readonly          bool
	VolumeContext     map[string]string
}

// NodeUnpublishVolumeRequest is csi.NodeUnpublishVolumeRequest.
type NodeUnpublishVolumeRequest struct {
	VolumeID   string
	TargetPath string
}

// ErrInvalidArgument marks a request the plugin can never serve as given
// (csi InvalidArgument): retrying it does not help until the volume's
// spec changes.
var ErrInvalidArgument = errors.New("invalid argument")

// Paths, as kubelet's CSI plugin names them, beneath the agent's root
// directory:
//
//	plugins/kubernetes.io/csi/<driver>/<sha256 of volumeHandle>/globalmount   staging path
//	plugins/kubernetes.io/csi/<driver>/<sha256 of volumeHandle>/vol_data.json the manager's record
//	pods/<uid>/volumes/kubernetes.io~csi/<pv name>/mount                      a filesystem's publish target
//	pods/<uid>/volumeDevices/kubernetes.io~csi/<pv name>                      a block device's
const (
	KindCSI        Kind = "kubernetes.io~csi"
	CSIPluginDir        = "plugins/kubernetes.io/csi"
	VolumeDevices       = "volumeDevices"
	GlobalMountDir      = "globalmount"
)

// StagingDir is the directory of one staged volume: its staging path
// (globalmount) and the records of the manager and the plugin are in it.
func StagingDir(rootDir, driver, volumeHandle string) string {
	sum := sha256.Sum256([]byte(volumeHandle))
	return filepath.Join(rootDir, CSIPluginDir, driver, hex.EncodeToString(sum[:]))
}

// HeldFile is a file-backed volume's file on the node, or what is left of
// one being removed (Removing: its data is gone, a marker stays until the
// control plane has been told).
type HeldFile struct {
	Handle   string
	Removing bool
}
