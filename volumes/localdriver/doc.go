// Package localdriver is the node plugin of the CSI driver
// local.nodeagent.io: volumes of one node, backed by a sparse file the
// agent attaches as a loop device, by a block device of the node (a VM's
// disk), or by a directory of the node. It implements volumes.NodePlugin.
//
// A PersistentVolume names it so (the shape the control plane's
// provisioner writes, and what an admin writes for a static one):
//
//	spec:
//	  csi:
//	    driver: local.nodeagent.io
//	    volumeHandle: <the PV's name>
//	    fsType: ext4                      # or xfs; ignored for volumeMode: Block
//	    volumeAttributes:
//	      backing: file                   # file | device | dir
//	      size: "268435456"               # file: bytes
//	      path: /dev/vdb                  # device, dir: absolute path
//	      mkfsOptions: "-L data"          # optional extra mkfs flags
//	  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions:
//	    [{key: kubernetes.io/hostname, operator: In, values: [<node>]}]}]}}
//
// A PV with spec.local.path is served by the same code: a block device
// there is backing "device", a directory "dir".
//
// What it does to the kernel, in order (NodeStageVolume), each step
// recorded first in <staging dir>/stage.json (written whole, synced):
//  1. attach: a file-backed volume's file <backing dir>/<handle>.img is
//     created sparse at its size if missing (0600 in a 0700 directory) and
//     attached to a free loop device (LOOP_CTL_GET_FREE, LOOP_CONFIGURE;
//     no autoclear: a block volume's device must outlive the agent) unless
//     a device is attached to it already (found by device and inode with
//     LOOP_GET_STATUS64, never by a recorded number);
//  2. format: blkid -p probes the device; only a device with no signature
//     at all is formatted (mkfs.ext4 -m0, mkfs.xfs; never forced), and
//     never one the record says was formatted; a partition table, another
//     filesystem type or any other signature is an error, with nothing
//     changed;
//  3. mount: the filesystem at the staging path (globalmount) with the
//     PV's mountOptions, once per node.
//
// A block volume stops after attach. NodePublishVolume binds the staging
// path (read-only where asked: open_tree, mount_setattr, move_mount) onto
// the pod's target, or for a block volume the device node onto a file.
//
// Cleanup, in reverse and idempotent: NodeUnpublishVolume unmounts and
// removes the target; NodeUnstageVolume unmounts the staging path and
// detaches the backing file's loop devices (LOOP_CLR_FD: a device still
// open is detached by the kernel at its last close), then removes the
// record. The backing file, with the volume's data, stays: removing it is
// the reclaim policy's business. When the volume manager reclaims it
// (backing.go), RemoveBackingFile renames it to <handle>.removing and
// empties it (never one a loop device holds, never a symlink), and
// FinishRemoval removes that marker once the volume's finalizer is gone:
// an agent killed in between still finds the volume to finish.
package localdriver
