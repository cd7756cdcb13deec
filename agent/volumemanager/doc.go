// Package volumemanager is the agent's volume manager, in kubelet's shape
// (pkg/kubelet/volumemanager): a desired state of the world (the pods the
// agent runs and their volumes; a claim resolved to its bound
// PersistentVolume, with kubelet's checks and messages), an actual state
// of the world (read at every pass from the records on disk and the mount
// table, so a restarted agent knows what it staged and published; what it
// lays out in pod directories is kept in memory and done again), and one
// reconciler (Run, every RetryPeriod or when woken) that computes a plan
// as a value (compute.go, table-tested) and applies it (apply.go):
// unpublish what removed pods had, unstage what no pod uses (only once
// every pod that runs here is known: SetSourcesReady), stage and publish
// through the CSI-shaped volumes.NodePlugin of the volume's driver, set
// up emptyDir, hostPath and the files volumes (configMap, secret,
// downwardAPI, projected), written again every RefreshPeriod or when the
// pod changes. Each operation has its own back-off (500 ms doubling to
// 30 s) and a failure is a FailedMount event on the pod.
//
// The node's half of the storage control plane's contract (volumes/doc.go,
// "Control plane"; ControlPlane reads and writes it): before a stage the
// manager waits for the volume's VolumeAttachment to say attached
// (attach.go: looked at every WaitPeriod to 2 s, no FailedMount event: the
// attach/detach controller reports the wait), checks that a local volume
// lives on this node, and adds the backing-file finalizer to a file-backed
// volume before its first stage makes the file (backing.go); it looks at
// the volume of every backing file it holds right after an unstage and
// then at growing intervals up to ReclaimPeriod, and for one deleted by
// the control plane and unused here removes the file (reclaim policy
// Delete; Retain keeps it) and then the finalizer (reclaim.go).
//
// The agent asks WaitForMount before it makes a pod's sandbox or starts a
// container (not ready: the pod waits, woken by OnReady), and TearDownPod
// before it removes the pod's directory. See volumes/doc.go for the paths
// and records.
package volumemanager
