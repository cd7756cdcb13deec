// Package volumes lays out, mounts and removes the volumes of the pods on
// a node, confined so that nothing a container writes or links can make
// the agent (root) touch a host path outside the pod's volumes, and holds
// the kernel edges of persistent volumes: loop devices (Loop), blkid and
// mkfs (Formatter), device mounts and read-only binds (Mounter), with a
// stateful fake beside each. The agent's volume manager
// (agent/volumemanager) drives them; volumes/localdriver is the node
// plugin of local.nodeagent.io behind the CSI-shaped NodePlugin (csi.go).
//
// Names, beneath the pod's directory <root>/pods/<uid> (kubelet's layout):
//
//	volumes/kubernetes.io~empty-dir/<name>     emptyDir: a directory
//	volumes/kubernetes.io~configmap/<name>     configMap: atomic writer
//	volumes/kubernetes.io~secret/<name>        secret: atomic writer on a tmpfs
//	volumes/kubernetes.io~downward-api/<name>  downwardAPI: the same
//	volume-subpaths/<volume>/<container>/<i>   subPath of the i-th volumeMount
//	volumes/kubernetes.io~projected/<name>     projected: atomic writer on a tmpfs
//	volumes/kubernetes.io~csi/<pv>/mount       a claim's filesystem, bound from the staging path
//	volumes/kubernetes.io~csi/<pv>/dev         a block claim's device node, bound on a file
//	volumes/kubernetes.io~csi/<pv>/vol_data.json  the manager's record of the publish
//
// and beneath the agent's root, once per node and volume:
//
//	plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/globalmount    the staging path
//	plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/vol_data.json  the manager's record
//	plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/stage.json     the driver's steps
//	volumes-backing/<handle>.img                                         a file-backed volume's data
//	volumes-backing/<handle>.removing                                    its removal under way (empty)
//
// The PersistentVolume the control plane's provisioner writes for a
// dynamically provisioned volume of the class nodeagent-local, and that an
// admin writes for a static one (volumes/localdriver/doc.go has the
// whole of it):
//
//	spec.csi.driver: local.nodeagent.io
//	spec.csi.volumeHandle: <the PV's name>
//	spec.csi.fsType: ext4 | xfs                 (volumeMode Filesystem)
//	spec.csi.volumeAttributes: {backing: file, size: "<bytes>"}
//	spec.nodeAffinity: kubernetes.io/hostname In [<the node>]
//
// The file is created sparse on the first stage. It is removed when the
// control plane deletes the volume and its reclaim policy is Delete (see
// "Control plane" below: the backing-file finalizer).
//
// Persistent volumes, in order (each step written to a record before it
// begins, so that kill -9 at any point and a restart converge): the
// manager records the staged volume, the driver creates and attaches the
// backing file (LOOP_CONFIGURE), probes it (blkid -p) and formats it only
// if it holds no signature at all and was never formatted, mounts it at
// the staging path; then for each pod the manager records the publish and
// the driver binds the staging path into the pod (read-only where asked),
// and the pod's fsGroup is applied (SetOwnership). A block volume is
// attached only, and its device node bound on a file the container gets
// as a device. Teardown runs in reverse: unpublish each pod, unstage
// (unmount, LOOP_CLR_FD) when no pod uses the volume; the backing file
// stays.
//
// The atomic writer (atomic.go) puts one version of the files in a
// timestamped directory, swaps the ..data symlink to it with rename(2), and
// makes each user-visible name a symlink into ..data. The agent hands
// these volumes to the runtime read-only, whatever the
// volumeMount says (as kubelet does since 1.10).
//
// How it writes: every create, write, rename and remove goes through a
// descriptor of a directory it trusts and names beneath it, resolved by
// openat2(2) with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (beneath.go): a
// symlink in the way fails the call with ELOOP, also one swapped in at any
// moment. Removal never goes into another mount.
//
// What it mounts (Mounter; System for the kernel, Fake for tests):
//   - a tmpfs (nosuid, nodev, size=16m) on each secret and downwardAPI
//     volume's directory;
//   - for a subPath, the path is opened beneath the volume (openat2 with
//     RESOLVE_BENEATH: symlinks that stay inside the volume are followed,
//     absolute ones and ".." past its root are refused) and the opened file
//     is bind-mounted through /proc/self/fd/N onto the pod-owned target,
//     which is what the runtime gets;
//   - hostPath volumes are resolved and checked here (hostpath.go) but
//     mounted by the runtime;
//   - a memory emptyDir is a tmpfs (nosuid, nodev) of its sizeLimit;
//   - a persistent volume's filesystem at its staging path (mount(2) of
//     the device, the PV's mountOptions), bound into each pod
//     (open_tree/mount_setattr/move_mount for a read-only bind).
//
// How it cleans up: RemovePodDir unmounts everything mounted at or beneath
// the pod's directory (found in /proc/self/mountinfo, so it works after an
// agent restart and in `nodeagent agent --cleanup`), deepest first, and
// removes the directory only when nothing is left mounted there; the
// volume manager has unpublished the pod's persistent volumes before.
// `agent --cleanup` unpublishes and unstages every recorded volume, then
// detaches the loop device of every backing file, records or not.
//
// # Control plane
//
// What the server's controllers (controllers/persistentvolume,
// attachdetach, ephemeral, scheduler) and the API give the agent, and what
// the agent owes them (agent/volumemanager does the node's part: attach.go,
// backing.go, reclaim.go). The names are constants of api/localvolume.
//
// A volume of the default class nodeagent-local is provisioned when the
// scheduler has chosen a node for the first pod that uses its claim. It is
// named pvc-<claim uid> and has:
//
//	spec.csi.driver            local.nodeagent.io
//	spec.csi.volumeHandle      the volume's name
//	spec.csi.fsType            ext4 (default) or xfs, from the class parameter
//	                           csi.storage.k8s.io/fstype; "" for volumeMode Block
//	spec.csi.volumeAttributes  backing=file, size=<bytes> (a multiple of 1 MiB)
//	spec.capacity.storage      the same size
//	spec.nodeAffinity          one term: kubernetes.io/hostname In [<node>]
//	spec.mountOptions          the class's; accessModes and volumeMode the claim's
//
// The agent handles a volume of this driver only when localvolume.Node
// names its own node. The backing file (<root-dir>/volumes-backing/<handle>.img,
// sparse, made on first stage) is the agent's to make and remove:
//
//  1. Attach: before staging, the agent gets the VolumeAttachment named
//     localvolume.AttachmentName(handle, driver, node) (kube's csi-<sha256>)
//     and waits until status.attached is true. The attach/detach controller
//     makes it when a pod on the node uses the volume and marks it attached
//     (its node is the volume's); a ReadWriteOnce volume attached to another
//     node is not attached here, and the pod waits (FailedAttachVolume
//     "Multi-Attach error" event). A node may get only its own attachments.
//  2. Before it creates the backing file, the agent adds the finalizer
//     local.nodeagent.io/backing-file to the PersistentVolume (an update; the
//     server refuses it once the volume is being deleted, and then no file
//     is made).
//  3. Reclaim Delete: when the claim goes, the controller deletes the volume
//     object; it stays (Terminating) while the finalizer is there. The agent
//     looks at the volumes of the backing files it holds (a GET by name,
//     every 30 s or so and after each unstage; the Node authorizer lets a
//     node get and update the local volumes whose node affinity names it).
//     For one with a deletionTimestamp and the finalizer, once no pod uses it
//     and it is unstaged, it deletes the file if the reclaim policy is
//     Delete (with Retain the file stays, as kube keeps the asset), then
//     removes the finalizer (admission lets a node change nothing else). A
//     volume that is gone (404) or not local to the node leaves its file
//     alone: nothing is deleted that was not asked for.
//
// Claims: a pod is bound to a node only once every claim it uses is bound
// (the scheduler waits), so the agent finds each volume through pod ->
// claim -> spec.volumeName, which the Node authorizer lets it read. A
// claim may name any volume (pre-binding), and a pod may be put on a node
// without the scheduler, so the agent uses a volume only when the binding
// is complete both ways: the claim is Bound and the volume's claimRef
// names it (namespace, name and UID). A claim's spec cannot change once
// bound. A generic ephemeral volume's claim, <pod>-<volume>, is made by
// the ephemeral controller, owned by the pod, and deleted after the pod.
//
// Tokens: POST serviceaccounts/<name>/token (authentication.k8s.io/v1
// TokenRequest) with spec.boundObjectRef {apiVersion v1, kind Pod, name,
// uid} of a pod bound to the node (anything else is 403 for a node),
// spec.audiences (default: the API's) and spec.expirationSeconds (at least
// 600; the kube-api-access volume asks 3607, which the server extends to a
// year for the API's audiences, so rotate at 80% of the requested lifetime
// as kubelet does). Every namespace has a "default" service account.
package volumes
