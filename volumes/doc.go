// Package volumes lays out, mounts and removes the volumes of the pods on
// a node, confined so that nothing a container writes or links can make
// the agent (root) touch a host path outside the pod's volumes. It is the
// start of the volume manager; block devices and claims come later.
//
// Names, beneath the pod's directory <root>/pods/<uid> (kubelet's layout):
//
//	volumes/kubernetes.io~empty-dir/<name>     emptyDir: a directory
//	volumes/kubernetes.io~configmap/<name>     configMap: atomic writer
//	volumes/kubernetes.io~secret/<name>        secret: atomic writer on a tmpfs
//	volumes/kubernetes.io~downward-api/<name>  downwardAPI: the same
//	volume-subpaths/<volume>/<container>/<i>   subPath of the i-th volumeMount
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
//     mounted by the runtime.
//
// How it cleans up: RemovePodDir unmounts everything mounted at or beneath
// the pod's directory (found in /proc/self/mountinfo, so it works after an
// agent restart and in `nodeagent agent --cleanup`), deepest first, and
// removes the directory only when nothing is left mounted there.
package volumes
