// Package cm is the agent's container manager, as kubelet's pkg/kubelet/cm:
// the node's cgroup tree, node allocatable, pods' limits and the OOM score
// policy.
//
// What it makes in the kernel, below the node's own root /nodeagent/<node>
// (so that agents of several lab nodes on one machine never meet):
//
//	kubepods                  cpu.shares, memory and pids limits from node
//	                          allocatable (capacity less --system-reserved
//	                          and --kube-reserved); Guaranteed pods' tier
//	kubepods/burstable        cpu.shares: its pods' summed CPU requests
//	                          (memory.min: their memory requests, v2)
//	kubepods/besteffort       cpu.shares 2
//	kubepods/<tier>/pod<uid>  the pod's limits (PodResourceConfig): shares
//	                          from its requests, a CFS quota and a memory
//	                          limit when every container sets one
//
// runc makes each container's cgroup below its pod's (the sandbox's cgroup
// parent). On cgroup v1 (V1) a cgroup is a directory in the cpu, cpuacct,
// memory and pids hierarchies (runc makes the others along its path); on
// v2 (V2) one directory in the unified hierarchy, with cpu, memory and
// pids enabled in every ancestor's cgroup.subtree_control, shares written
// as cpu.weight and the quota as cpu.max. DetectCgroups picks one from
// the mount; DetectDriver says whether systemd runs the machine.
//
// Removal: a pod's cgroup goes with its teardown (DestroyPod, children
// first, once their tasks are gone); the tiers and /nodeagent/<node> go
// with agent --cleanup. Nothing outside the node's root is written.
//
// OOMScoreAdj is kubelet's policy for a container's oom_score_adj, IsCritical
// which pods the eviction manager never evicts; both read the pod only.
package cm
