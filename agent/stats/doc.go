// Package stats builds kubelet's /stats/summary (k8s.io/kubelet's
// stats/v1alpha1 Summary) and its /metrics/resource (the metrics
// metrics-server reads) for the node and the pods the runtime runs.
//
// What it reads, never writes:
//   - cgroups, through the Cgroups interface: CPU (cumulative use) and
//     memory (usage, working set = usage - inactive file, RSS, page faults,
//     limit) of the root cgroup (the node), of each pod's cgroup and of each
//     container's, below it by container ID. V1 reads the cpuacct and memory
//     hierarchies of cgroup v1, V2 the unified hierarchy (DetectCgroups
//     picks one);
//   - the interfaces' counters of each pod's network namespace
//     (/proc/thread-self/net/dev on a throwaway thread that entered it;
//     no long-lived goroutine changes namespace) and of the agent's own;
//   - statfs of the agent's root directory (the node's filesystem) and of
//     the log directory, the size of each container's log, /proc/stat's
//     boot time and /proc/meminfo's total memory.
//
// usageNanoCores is the CPU rate between two samples at least MinWindow
// apart: Run samples every SampleInterval so that the first request after
// a pod starts already has one.
package stats
