// Package nodelifecycle notices nodes whose agent has stopped reporting,
// and keeps the node.kubernetes.io/* condition taints in step with the
// node's conditions, as kube-controller-manager's node lifecycle
// controller does (marking their pods not Ready, without evicting them).
//
// Each node renews a Lease named after it in kube-node-lease. A node whose
// last sign of life (the newer of the Lease's spec.renewTime and the Ready
// condition's lastHeartbeatTime; with neither, its creation time) is older
// than the grace period has its Ready, MemoryPressure, DiskPressure and
// PIDPressure conditions set to Unknown ("NodeStatusUnknown", "Kubelet
// stopped posting node status."; a condition the node never posted gets
// "NodeStatusNeverUpdated").
//
// Taints follow the conditions (after that marking):
//
//	Ready=False              node.kubernetes.io/not-ready            NoSchedule, NoExecute
//	Ready=Unknown            node.kubernetes.io/unreachable          NoSchedule, NoExecute
//	MemoryPressure=True      node.kubernetes.io/memory-pressure      NoSchedule
//	DiskPressure=True        node.kubernetes.io/disk-pressure        NoSchedule
//	PIDPressure=True         node.kubernetes.io/pid-pressure         NoSchedule
//	NetworkUnavailable=True  node.kubernetes.io/network-unavailable  NoSchedule
//	spec.unschedulable       node.kubernetes.io/unschedulable        NoSchedule
//
// Only these taints are added or removed here; other taints are left alone.
// So the unreachable taints stay until the agent is back and posts
// Ready=True, and then go.
//
// While a node's Ready is Unknown, its pods whose Ready condition is True
// get it False (kube's MarkPodsNotReady; PodsNotReady is the pure part),
// so that the endpoint controllers take them out of their Services; the
// agent, once back, writes its pods' status again. Pods are not evicted:
// a replacement elsewhere needs the pod deleted (kubectl delete pod
// --force --grace-period=0 for a machine that is gone).
//
// Evaluate is the pure decision, table-tested. The Controller around it
// checks every node every monitor period (and whenever a node or its Lease
// changes), writes conditions through nodes/status and taints through an
// update of the node. Time comes from an injected clock; the renew times
// come from the agents' clocks, so the machines' clocks must roughly agree
// (kube instead times the Lease's changes with its own clock).
package nodelifecycle
