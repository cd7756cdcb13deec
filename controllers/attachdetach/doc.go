// Package attachdetach is kube-controller-manager's attach/detach
// controller for CSI volumes, with the external attacher of nodeagent's
// own driver, local.nodeagent.io, built in.
//
// Desired state: for every pod bound to a node and not finished (a pod
// being deleted counts while a container still runs), the volumes bound to
// its claims whose CSI driver requires attachment (its CSIDriver says
// attachRequired, or there is no CSIDriver object). Actual state: the
// VolumeAttachment objects. The plan for one volume (planVolume, pure and
// table-tested):
//
//   - a node whose pods use the volume gets a VolumeAttachment named as
//     kube names it, "csi-" + hex(sha256(volumeHandle + driver + node)),
//     with attacher, nodeName and source.persistentVolumeName;
//   - unless the volume may be on one node only (no ReadWriteMany or
//     ReadOnlyMany, kube's IsMultiAttachAllowed) and has an attachment to
//     another node: then each of this node's pods gets, once, kube's
//     Warning FailedAttachVolume "Multi-Attach error for volume "<pv>"
//     Volume is already used by pod(s) <pods>" (pods of other namespaces
//     only counted). Of several nodes asking at once, the one that has it,
//     else the one with the oldest pod, wins;
//   - an attachment of a node where no pod uses the volume any more, or of
//     a volume that is gone, is deleted (detach); only attachments with the
//     name this controller gives are touched;
//   - the local attacher: a local.nodeagent.io volume lives on the node its
//     node affinity names, so an attachment to that node is marked
//     attached (status.attached, pods hear SuccessfulAttachVolume) and one
//     to another node gets status.attachError.
//
// A node's agent waits for its attachment to say attached before staging
// the volume (volumes/doc.go, "control plane"); the node may read the
// attachments of its own node (the Node authorizer).
//
// Left out, compared with kube: node.status.volumesAttached and waiting
// for the node's volumesInUse before detaching (here a volume is detached
// when no running pod there uses it), inline CSI volumes in VolumeAttachment
// specs, and the attacher's finalizer.
package attachdetach
