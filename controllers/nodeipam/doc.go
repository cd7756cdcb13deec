// Package nodeipam gives every Node a pod range, as kube-controller-manager's
// node IPAM controller does with --allocate-node-cidrs (the range
// allocator): a Node without spec.podCIDR gets the lowest free block of
// --node-cidr-mask-size in the cluster CIDR, free meaning no Node's
// spec.podCIDRs overlaps it. A Node that registered with a range of its own
// (an agent run with --pod-cidr) keeps it, and that range is taken. The
// agents that run without --pod-cidr take their range from the Node, as a
// kubelet does, so the nodes of a lab get ranges that do not collide.
package nodeipam
