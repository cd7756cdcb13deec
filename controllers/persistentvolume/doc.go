// Package persistentvolume binds PersistentVolumeClaims to
// PersistentVolumes, provisions local.nodeagent.io volumes, reclaims the
// volumes of deleted claims and keeps claims and volumes in use from going
// away: kube-controller-manager's persistentvolume-binder,
// persistentvolume-protection and persistentvolumeclaim-protection
// controllers and, for nodeagent's own driver, the external provisioner.
//
// The decisions are pure and table-tested (kube's semantics):
//   - FindMatchingVolume: a volume pre-bound to the claim wins; else the
//     Available volumes of the claim's class and volume mode, with all its
//     access modes, at least its request and the labels its selector asks
//     for; the fewest access modes, then the smallest, win. Under
//     WaitForFirstConsumer only pre-bound volumes are taken here; the
//     scheduler binds the others, knowing the node.
//   - decideClaim: bind; or wait for the first consumer (events
//     WaitForFirstConsumer / WaitForPodScheduled); or provision (for the
//     node in volume.kubernetes.io/selected-node, or the class's
//     allowedTopologies hostname under Immediate); or annotate the claim
//     for another provisioner (ExternalProvisioning); or FailedBinding,
//     ClaimLost, ClaimMisbound.
//   - decideVolume: Available, Bound; Released when the claim is gone,
//     then reclaim: Retain keeps the volume, Delete deletes the volumes
//     provisioned here (pv.kubernetes.io/provisioned-by), anything else is
//     Failed as in kube (no deleter or recycler plugin here).
//
// A binding is written in kube's four idempotent steps (volume claimRef,
// volume status, claim volumeName with pv.kubernetes.io/bind-completed and
// bound-by-controller, claim status with capacity and access modes), so a
// sync cut short is finished by the next one.
//
// Provisioned volumes have the shape volumes/doc.go ("control plane")
// agrees with the node: spec.csi driver local.nodeagent.io, volumeHandle
// the volume name (pvc-<claim uid>), volumeAttributes backing=file and
// size=<bytes> (the request rounded up to MiB), fsType from the class
// parameter csi.storage.k8s.io/fstype (ext4 or xfs; ext4 by default; none
// for a block volume) and node affinity kubernetes.io/hostname In [node].
// Deleting one deletes the object; its node removes the backing file and
// then the finalizer local.nodeagent.io/backing-file it put there.
//
// Protection: admission puts kubernetes.io/pvc-protection on new claims
// and kubernetes.io/pv-protection on new volumes; a claim being deleted
// loses it once no unfinished pod uses it (the cache, then the server, are
// asked), a volume once it is not Bound.
//
// Left out, compared with kube: volume expansion, data sources and
// populators, the retroactive default class, recycling, and the
// ReadWriteOncePod scheduling check.
package persistentvolume
