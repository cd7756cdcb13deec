// Package eviction is the agent's eviction manager, as kubelet's
// pkg/kubelet/eviction: it watches what the node has left of memory, disk
// (the node's and the image filesystem, bytes and inodes) and process IDs,
// reports the pressure conditions (MemoryPressure, DiskPressure,
// PIDPressure) and, when a threshold is crossed, reclaims what the node
// holds (dead containers, unused images) and then evicts pods, one per
// pass, until the signal is back above its threshold.
//
// Every HousekeepingInterval (10 s, kubelet's) a pass reads the stats
// summary (agent/stats), and between passes memory.available alone is read
// every second, a pass following at once when one of its thresholds is
// newly crossed (kubelet has a memcg threshold notifier for this). A pass:
//   - observes the signals (signals.go): memory.available (the node's
//     memory less the root cgroup's working set) and
//     allocatableMemory.available (the pods' cgroup against node
//     allocatable), nodefs.available and nodefs.inodesFree (the agent's
//     root directory), imagefs.available and imagefs.inodesFree (the
//     runtime's), pid.available;
//   - compares them with the thresholds (threshold.go: --eviction-hard,
//     --eviction-soft with --eviction-soft-grace-period,
//     --eviction-minimum-reclaim): a soft threshold counts once it has
//     been crossed for its grace period; a crossed threshold stays crossed
//     until the signal is back above it by its minimum reclaim;
//   - reports a pressure condition for as long as one of its thresholds
//     was crossed within --eviction-pressure-transition-period (5 m);
//   - evicts, before anything else, the pods over an emptyDir sizeLimit or
//     an ephemeral-storage limit (localstorage.go);
//   - for the most urgent crossed threshold (memory first), asks the
//     DiskReclaimer (image and container GC) to free the disk, and when
//     that was not enough ranks the active pods as kubelet does (rank.go:
//     usage above requests, then priority, then usage) and evicts the
//     first that is not critical: Failed, reason Evicted, with kubelet's
//     message, in at most one second after SIGTERM (a soft threshold: the
//     pod's grace period, at most --eviction-max-pod-grace-period).
//
// Admit refuses new pods under pressure as kubelet's eviction manager
// does: BestEffort pods under MemoryPressure (unless they tolerate the
// memory-pressure taint), every pod under DiskPressure or PIDPressure;
// critical pods always start.
//
// It changes nothing in the kernel itself: it reads through the summary
// and acts through the functions the agent passes in (Deps).
package eviction
