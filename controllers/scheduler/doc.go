// Package scheduler assigns pending pods to nodes, a small stand-in for
// kube-scheduler's default profile.
//
// It picks up pods with no spec.nodeName whose spec.schedulerName is
// "default-scheduler" (no deletionTimestamp, not finished, no scheduling
// gates) and binds each through the pods/binding subresource.
//
// The decision is pure and table-tested: Filter says whether one node can
// take a pod (node Ready, not cordoned, taints tolerated, nodeSelector and
// required node affinity, free host ports, requests within allocatable), and
// Schedule runs it over every node and picks the feasible node with the most
// free cpu and memory (kube's LeastAllocated score), ties going to the
// lowest node name. When no node fits, Schedule returns a *FitError whose
// message reads like kube's ("0/2 nodes are available: 1 Insufficient cpu,
// 1 node(s) were unschedulable.").
//
// The Controller around it is thin: informers feed a work queue of pod keys;
// one worker schedules one pod at a time, binds it, and remembers the
// binding ("assumes" it) until the informer shows the pod on its node, so
// that back-to-back pods do not both count the same free capacity. A pod
// that fits nowhere gets PodScheduled=False/Unschedulable in its status and
// a FailedScheduling event, once per distinct message; it is retried when a
// node appears or changes in a way that matters for scheduling, when a bound
// pod goes away, and on a periodic resync.
//
// Volumes (volumes.go), as kube's VolumeBinding plugin: every claim the pod
// uses (ephemeral ones included) must exist, not be deleting, and an
// unbound one must be WaitForFirstConsumer ("pod has unbound immediate
// PersistentVolumeClaims" otherwise). A node must satisfy the node
// affinity of the bound claims' volumes and, for each unbound claim, hold
// a free matching volume or be one the class can provision on. Once a
// node is chosen, the free volumes get the claim in their claimRef and the
// other claims the volume.kubernetes.io/selected-node annotation; the pod
// is bound when the volume controller has bound its claims (a claim change
// brings the pod back), so the one worker never blocks on provisioning.
//
// A node under pressure is avoided through its taints, as in kube 1.3x: the
// node lifecycle controller taints a node whose MemoryPressure,
// DiskPressure or PIDPressure is True (node.kubernetes.io/memory-pressure
// ... NoSchedule), and checkTaints keeps off every pod that does not
// tolerate the taint, BestEffort or not (kube's old CheckNodeMemoryPressure
// predicate is gone; the kubelet refuses BestEffort pods under memory
// pressure itself).
//
// Left out, compared with kube-scheduler: preemption and priorities (the
// queue is first come, first served; pods do carry spec.priority), pod
// (anti-)affinity, topology spread, preferred node affinity in scoring,
// volume limits and capacity, ReadWriteOncePod, and binding to nominated
// nodes.
package scheduler
