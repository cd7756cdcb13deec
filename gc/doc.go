// Package gc is the node's garbage collection, as kubelet's container GC,
// image GC and container log cleanup.
//
// Containers (containers.go, containers_plan.go): every ContainerGCPeriod
// (1 min) the dead containers (any state but running) created at least
// MinContainerAge ago are grouped by pod and container name, kubelet's
// evict units. Of a pod that exists, the newest maxPerPodContainer (1)
// that ran are kept per unit; the newest instance of a unit always stays,
// whatever its state, as it backs the container's status, restart count
// and `kubectl logs`. A deleted pod (PodState, once the agent has listed
// every pod) keeps none. Then, while the node holds more than
// maxContainers dead containers, each unit is cut to an equal share and
// the oldest go. Sandboxes of pods that exist go when not ready, holding
// no container and not the pod's newest; a deleted pod's sandboxes are the
// agent's teardown (network and volumes go with them). A removed
// container's log and its rotated files go (only inside PodLogDir), and a
// pod log directory whose pod is deleted and of which the runtime holds
// nothing is removed. The plan is a pure function; the collector applies it.
//
// Images (images.go, images_plan.go): every ImageGCPeriod (5 min) the
// image filesystem (cri.Runtime.ImageFsInfo: statfs of containerd's
// snapshotter root) is measured; at or above ImageGCHighThresholdPercent
// (85) unused images go, least recently used first (never seen in use,
// then used longest ago, then first detected first), until it is down to
// ImageGCLowThresholdPercent (80). An image any container uses, running or
// not, stays, and so does one first detected less than ImageMinimumGCAge
// (2 min) ago. What a removal freed is measured after it, not taken from
// the image's size, which counts layers shared with other images: the
// filesystem's free space gained, or the bytes the images no longer take
// when that is more (another writer on the filesystem). The first and last use of each image are remembered in
// memory, as kubelet's are: after a restart every image is new again.
//
// The eviction manager frees disk through the DiskFreer interface
// (DeleteUnusedImages, DeleteAllUnusedContainers; a *Manager is one)
// before it evicts a pod for disk pressure.
package gc
